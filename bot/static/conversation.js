// The console's live chat: re-read the conversation every few seconds and show what is new.
// Texts are set with textContent (never innerHTML): a citizen's message is data, not markup.
(function () {
  "use strict";
  var box = document.querySelector("[data-conversation-url]");
  if (!box) { return; }
  var list = box.querySelector("ol"), state = box.querySelector("[data-thread-state]");
  var seen = {};
  Array.prototype.forEach.call(list.children, function (li) { seen[li.dataset.id] = true; });

  function item(m) {
    var li = document.createElement("li");
    li.className = "chat " + m.who;
    li.dataset.id = m.id;
    var meta = document.createElement("span");
    meta.className = "muted";
    meta.textContent = m.at + " · " + (m.who === "citizen" ? box.dataset.citizenLabel : box.dataset.staffLabel);
    li.appendChild(meta);
    if (m.text) { var p = document.createElement("div"); p.className = "said"; p.textContent = m.text; li.appendChild(p); }
    if (m.photo) {
      var a = document.createElement("a"), img = document.createElement("img");
      a.href = m.photo; img.src = m.photo; img.alt = box.dataset.photoLabel; a.appendChild(img); li.appendChild(a);
    }
    if (m.map) {
      var link = document.createElement("a");
      link.href = m.map; link.rel = "noopener"; link.target = "_blank"; link.textContent = box.dataset.mapLabel;
      li.appendChild(link);
    }
    return li;
  }

  function refresh() {
    fetch(box.dataset.conversationUrl, {credentials: "same-origin", headers: {"Accept": "application/json", "X-Siang-Background": "1"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        data.items.forEach(function (m) {
          if (!seen[m.id]) { seen[m.id] = true; list.appendChild(item(m)); }
        });
        if (state) { state.textContent = data.open ? box.dataset.openLabel : box.dataset.closedLabel; }
      })
      .catch(function () { /* the next tick tries again */ })
      .then(function () { window.setTimeout(refresh, Number(box.dataset.every || 3000)); });
  }
  window.setTimeout(refresh, Number(box.dataset.every || 3000));
}());
