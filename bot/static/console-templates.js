// Response templates on the case page: choosing one inserts its text at the cursor of its textarea; a picker
// tied to a status select offers only the templates of the chosen status (and those of no status).
(function () {
  function filter(picker) {
    var from = picker.dataset.stateFrom && document.getElementById(picker.dataset.stateFrom);
    if (!from) return;
    Array.prototype.forEach.call(picker.options, function (option) {
      var state = option.dataset.state;
      option.hidden = !!option.value && !!state && state !== from.value;
    });
  }
  document.querySelectorAll('select.template-picker').forEach(function (picker) {
    var from = picker.dataset.stateFrom && document.getElementById(picker.dataset.stateFrom);
    if (from) { from.addEventListener('change', function () { filter(picker); }); filter(picker); }
    picker.addEventListener('change', function () {
      var option = picker.options[picker.selectedIndex];
      var area = document.getElementById(picker.dataset.target);
      if (!option.value || !area) return;
      var at = area.selectionStart || area.value.length;
      area.value = area.value.slice(0, at) + option.dataset.body + area.value.slice(at);
      area.focus();
      picker.selectedIndex = 0;
    });
  });
})();
