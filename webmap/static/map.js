// The map page's behaviour: residents as vector tiles, filters, layer toggles, resident panel.
// Everything that comes from the database is inserted with textContent, never as HTML.
(function () {
  "use strict";
  const cfg = JSON.parse(document.getElementById("visitmap-config").textContent);
  const map = window[cfg.map];
  const texts = cfg.texts;
  const ko = cfg.locale === "ko";
  const tierOrder = ["low", "medium", "high"];
  const tierCode = { low: 0, medium: 1, high: 2 };
  let residents = null;
  // residents above the choropleth (overlay pane, z-index 400), below markers (600)
  map.createPane("residents").style.zIndex = 450;

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
    for (const child of children) {
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function filters() {
    const params = new URLSearchParams();
    const tiers = [...document.querySelectorAll('#tier-toggles input[name="tier"]:checked')]
      .map((input) => input.value);
    params.set("tier", tiers.length ? tiers.join(",") : "none");
    if (document.getElementById("filter-overdue").checked) params.set("overdue", "true");
    const area = document.getElementById("filter-area").value;
    if (area) params.set("area", area);
    const signal = document.getElementById("filter-signal").value;
    if (signal) params.set("signal", signal);
    if (cfg.run_id !== null) params.set("run", cfg.run_id);
    return params;
  }

  // class token -> the id it came from (ids are normally [A-Za-z0-9-] already)
  const idsByToken = new Map();
  function classToken(id) {
    const token = String(id).replace(/[^A-Za-z0-9_-]/g, "_");
    idsByToken.set(token, String(id));
    return token;
  }

  function residentStyle(props, zoom) {
    const overdue = props.overdue === true || props.overdue === "true";
    const tier = ["low", "medium", "high"][Number(props.tier)];
    return {
      radius: zoom >= 16 ? 6 : 4,
      fill: true,
      fillColor: cfg.tiers[tier],
      fillOpacity: 0.9,
      color: overdue ? cfg.overdue_colour : "#ffffff",
      weight: overdue ? 2 : 0.5,
      // the pseudonymous id as a class: clicks find the resident by it (see below)
      className: "vm-resident vm-tier-" + tier + (overdue ? " vm-overdue" : "") +
        (props.id === undefined ? "" : " vm-rid-" + classToken(props.id)),
    };
  }

  function areaStyle(props) {
    // one circle per tier, largest (low) first so that high is drawn on top
    const styles = [];
    for (const tier of tierOrder) {
      const count = Number(props[tier] || 0);
      if (!count) continue;
      styles.push({
        radius: Math.min(40, 3 + 1.6 * Math.sqrt(count)),
        fill: true,
        fillColor: cfg.tiers[tier],
        fillOpacity: 0.55,
        color: Number(props["overdue_" + tier] || 0) ? cfg.overdue_colour : "#ffffff",
        weight: 1,
        className: "vm-area vm-tier-" + tier + " vm-code-" + classToken(props.code),
      });
    }
    return styles.length ? styles : [];
  }

  function drawResidents() {
    if (residents) map.removeLayer(residents);
    const params = filters();
    if (params.get("tier") === "none" || cfg.run_id === null) {
      residents = null;
      return;
    }
    // Not "interactive": VectorGrid's point symbols break Leaflet's own mouse events
    // (Leaflet.VectorGrid#148, no latlng on small circles); clicks are handled below.
    residents = L.vectorGrid.protobuf(cfg.tiles + "/{z}/{x}/{y}.pbf?" + params.toString(), {
      rendererFactory: L.svg.tile,
      pane: "residents",
      interactive: false,
      maxNativeZoom: 20,
      vectorTileLayerStyles: { residents: residentStyle, areas: areaStyle },
    });
    residents.addTo(map);
  }

  function section(title, content) {
    return [el("dt", {}, title), el("dd", {}, content)];
  }

  function renderPanel(data) {
    const body = document.getElementById("panel-body");
    body.replaceChildren();
    const tierName = data.tier_name;
    const badge = el("span", { class: "vm-tier", style: "background:" + cfg.tiers[tierName] },
      ko ? { high: "고위험", medium: "중위험", low: "저위험" }[tierName] : tierName);
    body.append(el("h2", {}, data.resident_id, " ", badge));
    const list = el("dl");
    if (data.name) list.append(...section(ko ? "이름" : "Name", data.name));
    list.append(...section(texts.area, data.area_name));
    list.append(...section(texts.score, Number(data.score).toFixed(3)));
    const reasons = el("ol", { class: "vm-reasons" });
    for (const reason of (ko ? data.reasons_ko : data.reasons_en)) reasons.append(el("li", {}, reason));
    list.append(...section(texts.reasons, reasons.childElementCount ? reasons : texts.none));
    const visit = data.last_visit;
    list.append(...section(texts.last_visit, visit
      ? visit.visited_on + " · " + (ko ? visit.outcome_ko : visit.outcome_en)
      : texts.never_visited));
    if (visit && visit.notes) list.append(...section(texts.note, visit.notes));
    list.append(...section(texts.next_due, data.next_due_on +
      (data.days_overdue > 0 ? " (" + data.days_overdue + " " + texts.days_overdue + ")" : "")));
    const needs = el("ul");
    for (const need of data.open_needs) {
      needs.append(el("li", {}, (ko ? need.category_ko : need.category_en) + " · " +
        (ko ? need.status_ko : need.status_en) + " · " + need.identified_on));
    }
    list.append(...section(texts.open_needs, needs.childElementCount ? needs : texts.none));
    const support = el("ul");
    for (const item of data.recent_support) {
      support.append(el("li", {}, item.provided_on + " · " + item.item + " · " + item.provider +
        " (" + (ko ? item.sector_ko : item.sector_en) + ")"));
    }
    list.append(...section(texts.recent_support,
      support.childElementCount ? support : texts.none));
    body.append(list);
    // the visit form for this resident (the id goes into the query string, encoded)
    body.append(el("p", {}, el("a", {
      class: "vm-record-visit",
      href: cfg.visit_form + "?resident=" + encodeURIComponent(data.resident_id),
    }, texts.record_visit)));
  }

  function openPanel(residentId) {
    const panel = document.getElementById("resident-panel");
    const body = document.getElementById("panel-body");
    panel.hidden = false;
    panel.dataset.residentId = residentId;
    body.replaceChildren(el("p", {}, texts.loading));
    const query = cfg.run_id !== null ? "?run=" + cfg.run_id : "";
    fetch(cfg.api + "/" + encodeURIComponent(residentId) + query, {
      headers: { Accept: "application/json" },
    })
      .then((response) => {
        if (!response.ok) throw new Error(response.status);
        return response.json();
      })
      .then(renderPanel)
      .catch(() => body.replaceChildren(el("p", { class: "vm-notice" }, texts.error)));
  }

  function tokenOf(path, prefix) {
    for (const name of path.classList) {
      if (name.startsWith(prefix)) return idsByToken.get(name.slice(prefix.length));
    }
    return undefined;
  }

  map.getContainer().addEventListener("click", (event) => {
    const path = event.target.closest && event.target.closest("path.vm-resident, path.vm-area");
    if (!path) return;
    const residentId = tokenOf(path, "vm-rid-");
    if (residentId) {
      openPanel(residentId);
    } else if (path.classList.contains("vm-resident") || tokenOf(path, "vm-code-")) {
      // dong circles, and residents at zoom 14 (drawn without ids): zoom in
      map.setView(map.mouseEventToLatLng(event), Math.max(cfg.resident_zoom, map.getZoom() + 1));
    }
  });

  document.getElementById("panel-close").addEventListener("click", () => {
    document.getElementById("resident-panel").hidden = true;
  });
  for (const id of ["filter-overdue", "filter-area", "filter-signal"]) {
    document.getElementById(id).addEventListener("change", drawResidents);
  }
  for (const input of document.querySelectorAll('#tier-toggles input[name="tier"]')) {
    input.addEventListener("change", drawResidents);
  }
  for (const input of document.querySelectorAll("#layer-toggles input[data-layer]")) {
    const layer = window[cfg.layers[input.dataset.layer]];
    const sync = () => (input.checked ? map.addLayer(layer) : map.removeLayer(layer));
    input.addEventListener("change", sync);
    sync();
  }
  window.visitmap = { map: map, openPanel: openPanel, redraw: drawResidents };
  drawResidents();
})();
