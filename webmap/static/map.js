// The map page's behaviour: residents drawn on canvas from vector tiles, filters, layer
// toggles, the resident panel, the collapsible legend and filters, the run picker.
// Everything that comes from the database is inserted with textContent, never as HTML.
//
// Residents: one <canvas> per 256 px tile (ResidentLayer, an L.GridLayer), not one SVG node
// per resident. Each tile's .pbf is decoded by mvt.js; its points are kept for hit-testing, so
// a click (or Enter on the focused map: the resident nearest its centre) finds the symbol under
// it. Tiers have a shape as well as a colour (style.py: high triangle, medium square, low
// circle); an overdue visit is a dark dot at the symbol's upper right. A tile has one symbol per
// point where residents live (issue 15): the highest tier there, and from zoom 16 the number of
// residents when more than one.
(function () {
  "use strict";
  const cfg = JSON.parse(document.getElementById("visitmap-config").textContent);
  const map = window[cfg.map];
  const texts = cfg.texts;
  const ko = cfg.locale === "ko";
  const tierNames = ["low", "medium", "high"];
  const phone = window.matchMedia("(max-width: 700px)");
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
    // issue 14, helper E: likely eligible, not receiving (eligibility screening)
    if (document.getElementById("filter-unreached").checked) params.set("unreached", "true");
    if (cfg.run_id !== null) params.set("run", cfg.run_id);
    return params;
  }

  // --- drawing ------------------------------------------------------------------------------

  /** The symbol's radius in CSS pixels at map zoom ``zoom``. */
  function residentRadius(zoom) {
    return zoom >= 16 ? 6.5 : zoom >= 15 ? 5.5 : 4.5;
  }

  /** Add the outline of ``shape`` centred on (x, y), of about the area of a circle of radius r. */
  function shapePath(ctx, shape, x, y, r) {
    if (shape === "triangle") {
      const R = r * 1.6;
      ctx.moveTo(x, y - R);
      ctx.lineTo(x + R * 0.866, y + R * 0.5);
      ctx.lineTo(x - R * 0.866, y + R * 0.5);
      ctx.closePath();
    } else if (shape === "square") {
      const h = r * 0.9;
      ctx.rect(x - h, y - h, 2 * h, 2 * h);
    } else {
      ctx.moveTo(x + r, y);
      ctx.arc(x, y, r, 0, 2 * Math.PI);
    }
  }

  function overdueMark(ctx, x, y, r) {
    const d = Math.max(2.2, r * 0.5);
    ctx.moveTo(x + r * 0.9 + d, y - r * 0.9);
    ctx.arc(x + r * 0.9, y - r * 0.9, d, 0, 2 * Math.PI);
  }

  // a tile's canvas reaches this far (px) past each edge, so that a symbol near the edge is
  // drawn whole (the tile's own buffer holds only points within 4 px of it)
  const PAD = 12;

  /** Draw a decoded tile (see tileData) into its canvas. */
  function drawTile(canvas, tile, zoom) {
    const ctx = canvas.getContext("2d");
    const ratio = canvas.width / (tile.size + 2 * PAD);
    ctx.setTransform(ratio, 0, 0, ratio, PAD * ratio, PAD * ratio);
    ctx.clearRect(-PAD, -PAD, tile.size + 2 * PAD, tile.size + 2 * PAD);
    ctx.lineJoin = "round";
    ctx.strokeStyle = cfg.outline;
    // dongs (to zoom 13): one symbol per tier, largest (low) first so that high is on top
    for (const area of tile.areas) {
      for (const tier of tierNames) {
        const count = area.counts[tier];
        if (!count) continue;
        ctx.beginPath();
        shapePath(ctx, cfg.shapes[tier], area.x, area.y, Math.min(40, 3 + 1.6 * Math.sqrt(count)));
        ctx.globalAlpha = 0.6;
        ctx.fillStyle = cfg.tiers[tier];
        ctx.fill();
        ctx.globalAlpha = 1;
        ctx.lineWidth = 1;
        ctx.stroke();
      }
    }
    // residents: low, then medium, then high (on top); each a copy of its tier's sprite
    const r = residentRadius(zoom);
    const n = tile.x.length;
    for (let t = 0; t < 3; t++) {
      const plain = sprite(t, false, r, ratio);
      const late = sprite(t, true, r, ratio);
      for (let i = 0; i < n; i++) {
        if (tile.tier[i] !== t) continue;
        const s = tile.overdue[i] ? late : plain;
        ctx.drawImage(s.canvas, Math.round(tile.x[i]) - s.half, Math.round(tile.y[i]) - s.half,
          2 * s.half, 2 * s.half);
      }
    }
    // a point where several residents live (one feature per point, issue 15): how many, from
    // zoom 16 on, at the symbol's lower right
    if (zoom >= 16) {
      ctx.font = "bold 10px sans-serif";
      ctx.textAlign = "left";
      ctx.textBaseline = "top";
      ctx.lineWidth = 3;
      ctx.strokeStyle = "#ffffff";
      ctx.fillStyle = "#222222";
      for (let i = 0; i < n; i++) {
        if (tile.n[i] < 2) continue;
        const label = String(tile.n[i]);
        const x = Math.round(tile.x[i]) + r * 0.8;
        const y = Math.round(tile.y[i]) + r * 0.4;
        ctx.strokeText(label, x, y);
        ctx.fillText(label, x, y);
      }
    }
  }

  // One small canvas per tier, overdue or not, size and pixel ratio: copying it is much
  // cheaper than filling and stroking a path per resident (a z14 tile holds ~2,700).
  const sprites = new Map();
  function sprite(tier, overdue, r, ratio) {
    const key = tier + ":" + overdue + ":" + r + ":" + ratio;
    let made = sprites.get(key);
    if (made) return made;
    const half = Math.ceil(r * 1.6 + 3 + (overdue ? Math.max(2.2, r * 0.5) : 0));
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = Math.ceil(2 * half * ratio);
    const ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, half * ratio, half * ratio);
    ctx.lineJoin = "round";
    ctx.beginPath();
    shapePath(ctx, cfg.shapes[tierNames[tier]], 0, 0, r);
    ctx.fillStyle = cfg.tiers[tierNames[tier]];
    ctx.fill();
    ctx.strokeStyle = cfg.outline;
    ctx.lineWidth = r >= 5 ? 1.25 : 1;
    ctx.stroke();
    if (overdue) {
      ctx.beginPath();
      overdueMark(ctx, 0, 0, r);
      ctx.fillStyle = cfg.overdue_colour;
      ctx.fill();
      ctx.strokeStyle = "#ffffff";
      ctx.lineWidth = 1.25;
      ctx.stroke();
    }
    made = { canvas: canvas, half: half };
    sprites.set(key, made);
    return made;
  }

  /** The points of a decoded tile in tile pixels, as flat arrays (kept for hit-testing). */
  function tileData(layers, size) {
    const data = { size: size, x: [], y: [], tier: [], overdue: [], id: [], n: [], areas: [] };
    const people = layers.residents;
    if (people) {
      const scale = size / people.extent;
      for (const f of people.features) {
        const p = f.properties;
        for (const [x, y] of f.points) {
          data.x.push(x * scale);
          data.y.push(y * scale);
          data.tier.push(Number(p.tier));
          data.overdue.push(p.overdue === true || p.overdue === "true");
          data.id.push(p.id === undefined || p.id === null ? null : String(p.id));
          data.n.push(Number(p.n || 1)); // residents at this point
        }
      }
    }
    const areas = layers.areas;
    if (areas) {
      const scale = size / areas.extent;
      for (const f of areas.features) {
        const p = f.properties;
        const counts = {};
        let largest = 0;
        for (const tier of tierNames) {
          counts[tier] = Number(p[tier] || 0);
          if (counts[tier]) largest = Math.max(largest, Math.min(40, 3 + 1.6 * Math.sqrt(counts[tier])));
        }
        for (const [x, y] of f.points) {
          data.areas.push({ x: x * scale, y: y * scale, code: p.code, counts: counts, radius: largest });
        }
      }
    }
    return data;
  }

  const ResidentLayer = L.GridLayer.extend({
    options: { pane: "residents", maxNativeZoom: 20, updateWhenZooming: false },

    initialize: function (url, options) {
      this._url = url;
      this._tiles_data = new Map();
      this._pending = new Map();
      this._busy_ms = 0; // decoding and drawing, all tiles so far
      L.setOptions(this, options);
      this.on("tileunload", (event) => {
        const key = this._tileCoordsToKey(event.coords);
        const controller = this._pending.get(key);
        if (controller) controller.abort();
        this._pending.delete(key);
        this._tiles_data.delete(key);
      });
    },

    createTile: function (coords, done) {
      const size = this.getTileSize().x;
      const ratio = Math.min(2, window.devicePixelRatio || 1);
      // the tile is a div of the tile's size holding a canvas PAD px larger on every side
      const box = L.DomUtil.create("div", "vm-tile");
      const canvas = L.DomUtil.create("canvas", "", box);
      canvas.width = canvas.height = Math.round((size + 2 * PAD) * ratio);
      canvas.style.cssText = "position:absolute;left:" + -PAD + "px;top:" + -PAD + "px;width:" +
        (size + 2 * PAD) + "px;height:" + (size + 2 * PAD) + "px";
      const key = this._tileCoordsToKey(coords);
      const controller = new AbortController();
      this._pending.set(key, controller);
      const url = this._url.replace("{z}", coords.z).replace("{x}", coords.x)
        .replace("{y}", coords.y);
      fetch(url, { signal: controller.signal, credentials: "same-origin" })
        .then((response) => {
          if (!response.ok) throw new Error("tile " + response.status);
          return response.arrayBuffer();
        })
        .then((buffer) => {
          this._pending.delete(key);
          const started = performance.now();
          const tile = tileData(window.visitmapMVT.decode(buffer), size);
          tile.coords = coords;
          this._tiles_data.set(key, tile);
          drawTile(canvas, tile, coords.z);
          this._busy_ms += performance.now() - started;
          done(null, box);
        })
        .catch((error) => {
          this._pending.delete(key);
          if (error.name !== "AbortError") done(error, box);
        });
      return box;
    },

    // A tile shows at once, without Leaflet's fade-in: the fade repaints every tile on every
    // frame until the last one has faded in, which on a slow tablet outlasted the drawing.
    _tileReady: function (coords, error, tile) {
      const fade = this._map._fadeAnimated;
      this._map._fadeAnimated = false;
      try {
        L.GridLayer.prototype._tileReady.call(this, coords, error, tile);
      } finally {
        this._map._fadeAnimated = fade;
      }
    },

    /** The resident or dong symbol nearest ``latlng`` within a few pixels, or null. */
    hitAt: function (latlng, slack) {
      const z = this._tileZoom;
      if (z === undefined) return null;
      const size = this.getTileSize().x;
      const scale = map.getZoomScale(map.getZoom(), z); // screen px per tile-zoom px
      const point = map.project(latlng, z);
      const tx = Math.floor(point.x / size);
      const ty = Math.floor(point.y / size);
      const r = residentRadius(z);
      let best = null;
      let bestDistance = Infinity;
      for (let dx = -1; dx <= 1; dx++) {
        for (let dy = -1; dy <= 1; dy++) {
          const tile = this._tiles_data.get((tx + dx) + ":" + (ty + dy) + ":" + z);
          if (!tile) continue;
          const ox = (tx + dx) * size - point.x;
          const oy = (ty + dy) * size - point.y;
          for (let i = 0; i < tile.x.length; i++) {
            const d = Math.hypot(tile.x[i] + ox, tile.y[i] + oy) * scale;
            // "<=": of residents at one spot (a household), the one drawn last, on top
            if (d <= r * 1.4 + slack && d <= bestDistance) {
              bestDistance = d;
              best = { kind: "resident", id: tile.id[i], tier: tierNames[tile.tier[i]] };
            }
          }
          for (const area of tile.areas) {
            const d = Math.hypot(area.x + ox, area.y + oy) * scale;
            if (d <= area.radius + slack && d < bestDistance) {
              bestDistance = d;
              best = { kind: "area", code: area.code };
            }
          }
        }
      }
      return best;
    },

    /** Where resident ``id`` is drawn (container pixels), if a loaded tile holds it. */
    pointOf: function (id) {
      for (const tile of this._tiles_data.values()) {
        const i = tile.id.indexOf(String(id));
        if (i < 0 || tile.x[i] < 0 || tile.y[i] < 0 || tile.x[i] >= tile.size ||
            tile.y[i] >= tile.size) continue;
        const size = tile.size;
        const latlng = map.unproject(
          [tile.coords.x * size + tile.x[i], tile.coords.y * size + tile.y[i]], tile.coords.z);
        return map.latLngToContainerPoint(latlng);
      }
      return null;
    },

    /** Tiles held and residents drawn (for tests and the bench). */
    stats: function () {
      let points = 0;
      for (const tile of this._tiles_data.values()) points += tile.x.length;
      return { tiles: this._tiles_data.size, residents: points, pending: this._pending.size,
        busy_ms: Math.round(this._busy_ms) };
    },
  });

  function drawResidents() {
    if (residents) map.removeLayer(residents);
    const params = filters();
    if (params.get("tier") === "none" || cfg.run_id === null) {
      residents = null;
      return;
    }
    residents = new ResidentLayer(cfg.tiles + "/{z}/{x}/{y}.pbf?" + params.toString());
    residents.addTo(map);
  }

  // --- the resident panel --------------------------------------------------------------------

  const panel = document.getElementById("resident-panel");
  const legend = document.getElementById("legend");
  const controls = document.getElementById("filters");
  let returnFocus = null;

  function section(title, content) {
    return [el("dt", {}, title), el("dd", {}, content)];
  }

  function renderPanel(data) {
    const body = document.getElementById("panel-body");
    body.replaceChildren();
    const tierName = data.tier_name;
    const badge = el("span", {
      class: "vm-tier vm-tier-" + tierName,
      style: "background:" + cfg.tiers[tierName] + ";color:" + cfg.tier_text[tierName],
    }, cfg.tier_labels[tierName]);
    body.append(el("h2", { id: "panel-title" }, data.resident_id, " ", badge));
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
    const state = data.visit_state;
    if (state) list.append(...section(texts.visit_state, ko ? state.words_ko : state.words_en));
    list.append(...section(texts.next_due, data.next_due_on));
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

  /** Keep the panel clear of the legend: it ends above the legend where they share a column. */
  function placePanel() {
    if (panel.hidden) return;
    panel.style.maxHeight = "";
    const box = panel.getBoundingClientRect();
    const key = legend.getBoundingClientRect();
    const mapBox = map.getContainer().getBoundingClientRect();
    const sideBySide = box.right <= key.left || key.right <= box.left;
    const bottom = sideBySide ? mapBox.bottom : Math.min(mapBox.bottom, key.top);
    panel.style.maxHeight = Math.max(120, bottom - box.top - 8) + "px";
  }

  function openPanel(residentId) {
    const body = document.getElementById("panel-body");
    if (panel.hidden) {
      const active = document.activeElement;
      returnFocus = active && active !== document.body && !panel.contains(active)
        ? active : map.getContainer();
    }
    if (phone.matches) {
      // a phone has no room for all three: the panel, and the legend and filters folded
      legend.open = false;
      controls.open = false;
    }
    panel.hidden = false;
    panel.dataset.residentId = residentId;
    body.replaceChildren(el("p", {}, texts.loading));
    placePanel();
    panel.focus();
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

  function closePanel() {
    if (panel.hidden) return;
    panel.hidden = true;
    const target = returnFocus && document.contains(returnFocus) ? returnFocus
      : map.getContainer();
    returnFocus = null;
    target.focus();
  }

  /** Open what is at ``latlng``: a resident's panel, or zoom in on a dong or a z14 resident. */
  function openAt(latlng, slack) {
    if (!residents) return false;
    const hit = residents.hitAt(latlng, slack);
    if (!hit) return false;
    if (hit.kind === "resident" && hit.id) {
      openPanel(hit.id);
    } else {
      // dong symbols, and residents at zoom 14 (drawn without ids): zoom in
      map.setView(latlng, Math.max(cfg.resident_zoom, map.getZoom() + 1));
    }
    return true;
  }

  map.on("click", (event) => openAt(event.latlng, 3));
  let hoverFrame = 0;
  map.on("mousemove", (event) => {
    if (hoverFrame) return;
    hoverFrame = requestAnimationFrame(() => {
      hoverFrame = 0;
      const hit = residents && residents.hitAt(event.latlng, 3);
      map.getContainer().style.cursor = hit ? "pointer" : "";
    });
  });
  // keyboard: Enter on the focused map opens the resident nearest its centre
  map.getContainer().addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || event.target !== map.getContainer()) return;
    if (openAt(map.getCenter(), 16)) event.preventDefault();
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !panel.hidden) {
      event.preventDefault();
      closePanel();
    }
  });
  document.getElementById("panel-close").addEventListener("click", closePanel);

  // --- controls ------------------------------------------------------------------------------

  for (const id of ["filter-overdue", "filter-area", "filter-signal", "filter-unreached"]) {
    document.getElementById(id).addEventListener("change", drawResidents);
  }
  for (const input of document.querySelectorAll('#tier-toggles input[name="tier"]')) {
    input.addEventListener("change", drawResidents);
  }
  const heatLegend = document.getElementById("heat-legend");
  for (const input of document.querySelectorAll("#layer-toggles input[data-layer]")) {
    const layer = window[cfg.layers[input.dataset.layer]];
    const sync = () => {
      if (input.checked) map.addLayer(layer);
      else map.removeLayer(layer);
      if (input.dataset.layer === "heat") heatLegend.hidden = !input.checked;
    };
    input.addEventListener("change", sync);
    sync();
  }
  const picker = document.getElementById("run-picker");
  if (picker) {
    picker.addEventListener("change", () => {
      const params = new URLSearchParams(window.location.search);
      if (picker.value) params.set("run", picker.value);
      else params.delete("run");
      const query = params.toString();
      window.location.assign(window.location.pathname + (query ? "?" + query : ""));
    });
  }

  // the header's height (it wraps on a phone) places the map under it
  const header = document.getElementById("vm-nav");
  function fitUnderHeader() {
    const height = header ? header.getBoundingClientRect().height : 0;
    document.documentElement.style.setProperty("--vm-header", height + "px");
    map.invalidateSize({ pan: false });
    placePanel();
  }
  if (header && window.ResizeObserver) new ResizeObserver(fitUnderHeader).observe(header);
  window.addEventListener("resize", placePanel);
  for (const box of [legend, controls]) box.addEventListener("toggle", placePanel);
  // a phone starts with the legend and the filters folded; a larger screen with them open
  if (phone.matches) {
    legend.open = false;
    controls.open = false;
  }
  fitUnderHeader();

  window.visitmap = {
    map: map,
    openPanel: openPanel,
    closePanel: closePanel,
    redraw: drawResidents,
    residents: () => residents,
  };
  drawResidents();
})();
