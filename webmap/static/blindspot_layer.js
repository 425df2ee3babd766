// Issue 14: the map layers "위기 밀집 지역" (hot and cold spots of the published run, Gi* with an
// FDR) and "복지사각지대" (people on the blind-spot list in the caller's scope, one marker each,
// coloured by how many reasons they have). Kept apart from map.js; reads the page's config.
// Everything from the server is inserted with textContent or as tooltip text, never as HTML.
(function () {
  "use strict";
  const cfg = JSON.parse(document.getElementById("visitmap-config").textContent);
  const blind = cfg.blindspots;
  if (!blind) return;
  const map = window[cfg.map];
  const HOT = { hot: "#b2182b", cold: "#2166ac" };
  // rings (not fills: the tiers own the fills), darker for more reasons: 1, 2, 3, 4
  const REASONS = ["#df65b0", "#ce1256", "#980043", "#49006a"];

  function text(value) {
    const span = document.createElement("span");
    span.textContent = value;
    return span;
  }

  function toggle(id, legendId, load) {
    const box = document.getElementById(id);
    const legend = document.getElementById(legendId);
    if (!box) return;
    let layer = null;
    box.addEventListener("change", () => {
      legend.hidden = !box.checked;
      if (!box.checked) {
        if (layer) map.removeLayer(layer);
        layer = null;
        return;
      }
      load()
        .then((made) => {
          if (box.checked && !layer) { layer = made; layer.addTo(map); }
        })
        .catch(() => { legend.hidden = true; box.checked = false; });
    });
  }

  function get(url) {
    return fetch(url, { credentials: "same-origin" })
      .then((r) => (r.ok ? r.json() : Promise.reject(r.status)));
  }

  toggle("hotspot-layer-toggle", "hotspot-legend", () =>
    get(blind.hotspots).then((body) =>
      L.geoJSON(body, {
        style: (f) => ({ color: HOT[f.properties.cluster], weight: 1, fillColor: HOT[f.properties.cluster],
          fillOpacity: 0.45 }),
        onEachFeature: (f, shape) => {
          const p = f.properties;
          shape.bindTooltip(text((p.cluster === "hot" ? blind.texts.hot : blind.texts.cold)
            + " · z " + p.z + " · q " + p.q + " · " + blind.texts.residents + " " + p.residents));
        },
      })));

  toggle("blindspot-layer-toggle", "blindspot-legend", () =>
    get(blind.people).then((body) => {
      const group = L.featureGroup();
      for (const p of body.people) {
        const n = Math.min(p.reasons.length, 4);
        L.circleMarker([p.lat, p.lon], { radius: 7 + n, color: REASONS[n - 1], weight: 3,
          fill: true, fillOpacity: 0 })
          .bindTooltip(text(p.resident_id + " · " + p.reason_texts.join(" / ")))
          .addTo(group);
      }
      return group;
    }));
})();
