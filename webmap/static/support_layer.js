// Issue 13 ("dashboard"): the map layer "지원 경고" (dongs coloured by their support warnings)
// and the support flags in the resident panel. Kept apart from map.js: it reads the page's
// config and the choropleth's dong outlines, and watches the panel for the resident shown.
// Everything from the server is inserted with textContent, never as HTML.
(function () {
  "use strict";
  const cfg = JSON.parse(document.getElementById("visitmap-config").textContent);
  const support = cfg.support;
  if (!support) return;
  const map = window[cfg.map];
  const texts = support.texts;
  const ko = cfg.locale === "ko";
  const COLOURS = { red: "#d73027", yellow: "#fdd835", blue: "#4a90d9" };
  let layer = null;

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
    for (const child of children) {
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  // --- the layer ------------------------------------------------------------------------------

  function draw(levels) {
    const outlines = window[cfg.layers.choropleth].toGeoJSON();
    layer = L.geoJSON(outlines, {
      style: (feature) => {
        const row = levels[feature.properties.code];
        return { fillColor: COLOURS[row ? row.level : "blue"], fillOpacity: 0.55,
          color: "#333", weight: 1 };
      },
      onEachFeature: (feature, shape) => {
        const row = levels[feature.properties.code] || { red: 0, yellow: 0, level: "blue" };
        shape.feature.properties.support = row;
        shape.bindTooltip(texts.red + " " + row.red + " · " + texts.yellow + " " + row.yellow);
      },
    });
    layer.addTo(map);
  }

  const toggle = document.getElementById("support-layer-toggle");
  const legend = document.getElementById("support-legend");
  if (toggle) {
    toggle.addEventListener("change", () => {
      legend.hidden = !toggle.checked;
      if (!toggle.checked) {
        if (layer) map.removeLayer(layer);
        layer = null;
        return;
      }
      fetch(support.areas, { credentials: "same-origin" })
        .then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
        .then((body) => { if (toggle.checked && !layer) draw(body.areas); })
        .catch(() => { legend.hidden = true; toggle.checked = false; });
    });
  }

  // --- the panel's flags ----------------------------------------------------------------------

  const panel = document.getElementById("resident-panel");
  const body = document.getElementById("panel-body");
  let pending = null; // the panel title whose flags are being fetched

  function flags(data) {
    const box = el("section", { class: "vm-support-flags", id: "support-flags" });
    box.append(el("h3", {}, texts.flags));
    if (data.warnings.length) {
      const list = el("ul");
      for (const w of data.warnings) {
        list.append(el("li", { class: "vm-flag vm-flag-" + w.level, "data-kind": w.kind },
          (ko ? w.label : w.label_en) + (w.since ? " · " + w.since : "")));
      }
      box.append(list);
    } else {
      box.append(el("p", { class: "vm-flag vm-flag-blue" }, texts.no_flags));
    }
    box.append(el("p", { class: "vm-small" }, data.consent && data.consent.consented
      ? texts.consent_yes.replace("%(date)s", data.consent.decided_on) : texts.consent_no));
    return box;
  }

  function refresh() {
    const title = document.getElementById("panel-title");
    const rid = panel.dataset.residentId;
    if (!title || !rid || title === pending || document.getElementById("support-flags")) return;
    pending = title;
    fetch(support.resident.replace("RID", encodeURIComponent(rid)), { credentials: "same-origin" })
      .then((r) => (r.ok ? r.json() : null))
      .then((data) => {
        if (!data || panel.dataset.residentId !== rid) return;
        if (document.getElementById("support-flags")) return;
        const heading = document.getElementById("panel-title");
        if (heading) heading.after(flags(data));
      })
      .catch(() => {});
  }

  new MutationObserver(refresh).observe(body, { childList: true });
})();
