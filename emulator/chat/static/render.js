// Draws LINE message objects as readable HTML: text, stickers, images, locations, Flex and templates.
// Not pixel-perfect; every button calls onAction(action) so taps behave as in the LINE app.
"use strict";

const Render = (() => {
  const SIZES = { xxs: 11, xs: 12, sm: 13, md: 15, lg: 17, xl: 19, xxl: 22, "3xl": 26, "4xl": 30, "5xl": 36 };
  const SPACING = { none: 0, xs: 2, sm: 4, md: 8, lg: 12, xl: 16, xxl: 20 };

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function px(value, table) {
    if (value === undefined || value === null) return null;
    if (table && value in table) return table[value] + "px";
    return /^\d+(\.\d+)?$/.test(String(value)) ? value + "px" : value;
  }

  function actionButton(action, onAction, className) {
    const button = el("button", className, action.label || action.text || action.type);
    button.type = "button";
    button.addEventListener("click", () => onAction(action));
    return button;
  }

  function flexText(node) {
    const text = el("div", "fx-text");
    if (node.contents && node.contents.length) {
      node.contents.forEach((span) => {
        const s = el("span", null, span.text);
        if (span.weight === "bold") s.style.fontWeight = "700";
        if (span.color) s.style.color = span.color;
        if (span.size) s.style.fontSize = px(span.size, SIZES);
        text.appendChild(s);
      });
    } else {
      text.textContent = node.text || "";
    }
    if (node.weight === "bold") text.style.fontWeight = "700";
    if (node.color) text.style.color = node.color;
    if (node.size) text.style.fontSize = px(node.size, SIZES);
    if (node.align) text.style.textAlign = node.align === "start" ? "left" : node.align === "end" ? "right" : "center";
    if (!node.wrap) { text.style.whiteSpace = "nowrap"; text.style.overflow = "hidden"; text.style.textOverflow = "ellipsis"; }
    if (node.decoration === "line-through") text.style.textDecoration = "line-through";
    return text;
  }

  function flexComponent(node, onAction, parentLayout) {
    let out;
    switch (node.type) {
      case "box": {
        out = el("div", "fx-box " + (node.layout || "vertical"));
        const gap = px(node.spacing, SPACING);
        if (gap) out.style.gap = gap;
        if (node.backgroundColor) out.style.backgroundColor = node.backgroundColor;
        ["paddingAll", "paddingTop", "paddingBottom", "paddingStart", "paddingEnd"].forEach((key) => {
          const value = px(node[key], SPACING);
          if (!value) return;
          const css = { paddingAll: "padding", paddingTop: "paddingTop", paddingBottom: "paddingBottom",
                        paddingStart: "paddingLeft", paddingEnd: "paddingRight" }[key];
          out.style[css] = value;
        });
        if (node.cornerRadius) out.style.borderRadius = px(node.cornerRadius, SPACING);
        if (node.borderColor) out.style.border = `${node.borderWidth || "1px"} solid ${node.borderColor}`;
        (node.contents || []).forEach((child) => out.appendChild(flexComponent(child, onAction, node.layout)));
        break;
      }
      case "text": out = flexText(node); break;
      case "span": out = el("span", null, node.text); break;
      case "button":
        out = actionButton(node.action || {}, onAction, "fx-button " + (node.style || "link"));
        if (node.color && node.style !== "link") out.style.backgroundColor = node.color;
        return withFlex(out, node, parentLayout);
      case "image": {
        out = el("img", "fx-image");
        out.src = node.url; out.alt = "";
        if (node.aspectRatio) out.style.aspectRatio = node.aspectRatio.replace(":", "/");
        if (node.size && node.size !== "full") out.style.maxWidth = px(node.size, { xxs: 40, xs: 60, sm: 80, md: 100, lg: 120, xl: 140, xxl: 160 });
        break;
      }
      case "icon": out = el("img"); out.src = node.url; out.style.width = "16px"; break;
      case "separator": out = el("hr", "fx-separator"); break;
      case "filler": out = el("div"); out.style.flex = "1"; break;
      case "video": out = el("div", "alt", "[วิดีโอ]"); break;
      default: out = el("div", "alt", `[${node.type}]`);
    }
    if (node.margin) out.style.marginTop = px(node.margin, SPACING);
    if (node.action && node.type !== "button") {
      out.classList.add("fx-clickable");
      out.addEventListener("click", () => onAction(node.action));
    }
    return withFlex(out, node, parentLayout);
  }

  function withFlex(out, node, parentLayout) {
    if (node.flex !== undefined) out.style.flex = String(node.flex);
    else if (parentLayout === "horizontal" || parentLayout === "baseline") out.style.flex = "1";
    return out;
  }

  function flexBubble(bubble, onAction) {
    const card = el("div", "flex-bubble " + (bubble.size || "mega"));
    ["header", "hero", "body", "footer"].forEach((part) => {
      if (!bubble[part]) return;
      const section = el("div", "flex-section " + part);
      const style = (bubble.styles || {})[part];
      if (style && style.backgroundColor) section.style.backgroundColor = style.backgroundColor;
      section.appendChild(flexComponent(bubble[part], onAction, "vertical"));
      card.appendChild(section);
    });
    if (bubble.action) { card.classList.add("fx-clickable"); card.addEventListener("click", () => onAction(bubble.action)); }
    return card;
  }

  function flex(contents, onAction) {
    if (contents.type === "carousel") {
      const row = el("div", "carousel");
      contents.contents.forEach((bubble) => row.appendChild(flexBubble(bubble, onAction)));
      return row;
    }
    return flexBubble(contents, onAction);
  }

  function template(tpl, altText, onAction) {
    if (tpl.type === "carousel" || tpl.type === "image_carousel") {
      const row = el("div", "carousel");
      tpl.columns.forEach((column) => row.appendChild(template(
        tpl.type === "image_carousel" ? { type: "buttons", thumbnailImageUrl: column.imageUrl, text: "", actions: [column.action] }
                                      : { ...column, type: "buttons" }, altText, onAction)));
      return row;
    }
    const card = el("div", "template");
    if (tpl.thumbnailImageUrl) { const img = el("img", "fx-image"); img.src = tpl.thumbnailImageUrl; card.appendChild(img); }
    const body = el("div", "body");
    if (tpl.title) body.appendChild(el("div", "title", tpl.title));
    if (tpl.text) body.appendChild(el("div", null, tpl.text));
    card.appendChild(body);
    const actions = el("div", "actions" + (tpl.type === "confirm" ? " confirm" : ""));
    (tpl.actions || []).forEach((action) => actions.appendChild(actionButton(action, onAction)));
    card.appendChild(actions);
    return card;
  }

  // One message object -> a DOM node. `contentUrl` serves a citizen's own uploaded image.
  function message(msg, onAction, contentUrl) {
    switch (msg.type) {
      case "text": case "textV2": return el("div", "text-bubble", msg.text);
      case "sticker": {
        const box = el("div", "sticker", "สติกเกอร์");
        box.appendChild(el("small", null, `${msg.packageId}/${msg.stickerId}`));
        return box;
      }
      case "image": {
        const img = el("img", "photo");
        img.alt = "image";
        img.src = msg.previewImageUrl || msg.originalContentUrl || contentUrl(msg.id);
        return img;
      }
      case "video": case "audio": case "file":
        return el("div", "text-bubble", `[${{ video: "วิดีโอ", audio: "เสียง", file: "ไฟล์" }[msg.type]}] ${msg.fileName || ""}`);
      case "location": {
        const card = el("div", "location-card");
        card.appendChild(el("b", null, "ตำแหน่ง: " + (msg.title || "")));
        if (msg.address) card.appendChild(el("div", null, msg.address));
        card.appendChild(el("div", "alt", `${msg.latitude}, ${msg.longitude}`));
        return card;
      }
      case "flex": return flex(msg.contents, onAction);
      case "template": return template(msg.template, msg.altText, onAction);
      default: return el("div", "text-bubble alt", `[${msg.type}] ${msg.altText || ""}`);
    }
  }

  return { message, actionButton, el };
})();
