// Issue 14 (helper H): the map layer "위험 밀집 지역 / Risk hot spots": H3 cells (or dongs)
// of the published run coloured by their Getis-Ord Gi* class after the FDR correction.
// Kept apart from map.js; everything from the server goes in with textContent, never as HTML.
(function () {
  "use strict";
  const cfg = JSON.parse(document.getElementById("visitmap-config").textContent);
  const hot = cfg.hotspots;
  if (!hot) return;
  const map = window[cfg.map];
  const texts = hot.texts;
  const STYLE = {
    hot: { fillColor: "#d7191c", fillOpacity: 0.5, color: "#a50f15", weight: 1 },
    cold: { fillColor: "#2c7bb6", fillOpacity: 0.45, color: "#08519c", weight: 1 },
    none: { fillColor: "#999999", fillOpacity: 0.05, color: "#999999", weight: 0.4 },
  };
  let layer = null;

  function fmt(value, digits) {
    return value === null || value === undefined ? "-" : Number(value).toFixed(digits);
  }

  function tooltip(p) {
    const box = document.createElement("div");
    const lines = [
      texts[p.cluster] + " · " + p.cell,
      texts.residents + " " + (p.residents === null ? "1-4" : p.residents) + " · " +
        texts.high + " " + (p.high === null ? "1-4" : p.high) + " (" + fmt(100 * p.value, 1) + "%)",
      "z " + fmt(p.z, 2) + " · q " + fmt(p.q_value, 3),
    ];
    for (const line of lines) {
      const row = document.createElement("div");
      row.textContent = line;
      box.append(row);
    }
    return box;
  }

  function draw(collection) {
    layer = L.geoJSON(collection, {
      style: (feature) => STYLE[feature.properties.cluster] || STYLE.none,
      onEachFeature: (feature, shape) => {
        shape.bindTooltip(() => tooltip(feature.properties));
      },
    });
    layer.addTo(map);
  }

  const toggle = document.getElementById("hotspot-layer-toggle");
  const unit = document.getElementById("hotspot-unit");
  const legend = document.getElementById("hotspot-legend");
  const status = document.getElementById("hotspot-status");

  function load() {
    if (layer) map.removeLayer(layer);
    layer = null;
    legend.hidden = !toggle.checked;
    if (!toggle.checked) return;
    const url = hot.url + "?unit=" + encodeURIComponent(unit ? unit.value : "h3_9");
    fetch(url, { credentials: "same-origin" })
      .then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
      .then((body) => {
        if (!toggle.checked || layer) return;
        draw(body);
        const n = body.features.filter((f) => f.properties.cluster === "hot").length;
        status.textContent = body.features.length
          ? texts.count.replace("%(hot)s", n).replace("%(units)s", body.features.length)
          : texts.empty;
      })
      .catch(() => { status.textContent = texts.empty; });
  }

  if (toggle) {
    toggle.addEventListener("change", load);
    if (unit) unit.addEventListener("change", load);
  }
})();
