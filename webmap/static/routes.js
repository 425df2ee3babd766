/* The route page's small maps, one per visitor, shown in the print view (?print=1 and the
   browser's print): the base, the visitor's line and numbered stops. They read only numbers
   from data-route (see webmap.routes_page.route_points); no free text goes through here. */
(function () {
  "use strict";
  var maps = [];
  function draw(el) {
    var data = JSON.parse(el.getAttribute("data-route"));
    var colour = el.getAttribute("data-colour") || "#1b9e77";
    var map = L.map(el, { zoomControl: false, attributionControl: true, scrollWheelZoom: false });
    var tiles = el.getAttribute("data-tiles");
    if (tiles) {
      L.tileLayer(tiles, { attribution: el.getAttribute("data-attribution") || "" }).addTo(map);
    }
    var line = [data.base].concat(data.stops.map(function (s) { return [s[0], s[1]]; }), [data.base]);
    L.polyline(line, { color: colour, weight: 4, opacity: 0.85 }).addTo(map);
    L.marker(data.base, { icon: L.divIcon({ className: "", html: '<div class="route-base">⌂</div>',
      iconSize: [26, 26], iconAnchor: [13, 13] }) }).addTo(map);
    data.stops.forEach(function (s) {
      var div = document.createElement("div");
      div.className = "print-stop" + (s[3] ? " done" : "");
      div.style.background = colour;
      div.textContent = String(s[2]);
      L.marker([s[0], s[1]], { icon: L.divIcon({ className: "", html: div, iconSize: [24, 24],
        iconAnchor: [12, 12] }) }).addTo(map);
    });
    var bounds = L.latLngBounds(line);
    map.fitBounds(bounds, { padding: [16, 16] });
    maps.push({ map: map, bounds: bounds });
  }
  // the maps are drawn off-screen (17 cm wide) and shown at the page's width: take the new
  // size and fit the route again, so that no stop is cut off
  function refresh() {
    maps.forEach(function (m) {
      m.map.invalidateSize();
      m.map.fitBounds(m.bounds, { padding: [16, 16] });
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    if (typeof L === "undefined") { return; }
    document.querySelectorAll(".visitor-map[data-route]").forEach(draw);
    refresh();
  });
  window.addEventListener("beforeprint", refresh);
  if (window.matchMedia) { window.matchMedia("print").addListener(refresh); }
}());
