// A small decoder of Mapbox vector tiles (protobuf, spec 2.1) for point layers: what the map's
// resident tiles hold (geo/mapdata/tiles.py). Written for this app (no dependency); lines and
// polygons are skipped. window.visitmapMVT.decode(arrayBuffer) ->
//   { layerName: { extent, features: [{ properties: {...}, points: [[x, y], ...] }] } }
// with x, y in tile units (0..extent, a buffer may reach outside).
(function () {
  "use strict";
  const utf8 = new TextDecoder("utf-8");

  function Reader(bytes) {
    this.buf = bytes;
    this.pos = 0;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  Reader.prototype.varint = function () {
    let result = 0;
    let factor = 1;
    let byte;
    do {
      byte = this.buf[this.pos++];
      result += (byte & 0x7f) * factor;
      factor *= 128;
    } while (byte >= 0x80);
    return result;
  };
  Reader.prototype.skip = function (wire) {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.pos += this.varint();
    else if (wire === 5) this.pos += 4;
    else throw new Error("unsupported protobuf wire type " + wire);
  };
  Reader.prototype.string = function () {
    const end = this.varint() + this.pos;
    const text = utf8.decode(this.buf.subarray(this.pos, end));
    this.pos = end;
    return text;
  };
  Reader.prototype.packed = function () {
    const end = this.varint() + this.pos;
    const values = [];
    while (this.pos < end) values.push(this.varint());
    return values;
  };

  function zigzag(n) {
    return n % 2 === 1 ? -(n + 1) / 2 : n / 2;
  }

  function readValue(r, end) {
    let value = null;
    while (r.pos < end) {
      const tag = r.varint();
      const field = Math.floor(tag / 8);
      const wire = tag & 7;
      if (field === 1) value = r.string();
      else if (field === 2) { value = r.view.getFloat32(r.pos, true); r.pos += 4; }
      else if (field === 3) { value = r.view.getFloat64(r.pos, true); r.pos += 8; }
      else if (field === 4 || field === 5) value = r.varint();
      else if (field === 6) value = zigzag(r.varint());
      else if (field === 7) value = r.varint() !== 0;
      else r.skip(wire);
    }
    return value;
  }

  function readFeature(r, end) {
    const feature = { type: 0, tags: [], geometry: [] };
    while (r.pos < end) {
      const tag = r.varint();
      const field = Math.floor(tag / 8);
      const wire = tag & 7;
      if (field === 2 && wire === 2) feature.tags = r.packed();
      else if (field === 3) feature.type = r.varint();
      else if (field === 4 && wire === 2) feature.geometry = r.packed();
      else r.skip(wire);
    }
    return feature;
  }

  function points(geometry) {
    const out = [];
    let x = 0;
    let y = 0;
    let i = 0;
    while (i < geometry.length) {
      const command = geometry[i++];
      const id = command & 7;
      const count = Math.floor(command / 8);
      if (id === 1 || id === 2) {
        for (let k = 0; k < count; k++) {
          x += zigzag(geometry[i++]);
          y += zigzag(geometry[i++]);
          if (id === 1) out.push([x, y]);
        }
      }
    }
    return out;
  }

  function readLayer(r, end) {
    const layer = { name: "", extent: 4096, keys: [], values: [], raw: [] };
    while (r.pos < end) {
      const tag = r.varint();
      const field = Math.floor(tag / 8);
      const wire = tag & 7;
      if (field === 1) layer.name = r.string();
      else if (field === 2) {
        const len = r.varint();
        layer.raw.push(readFeature(r, r.pos + len));
      } else if (field === 3) layer.keys.push(r.string());
      else if (field === 4) {
        const len = r.varint();
        layer.values.push(readValue(r, r.pos + len));
      } else if (field === 5) layer.extent = r.varint();
      else r.skip(wire);
    }
    const features = [];
    for (const raw of layer.raw) {
      if (raw.type !== 1) continue; // points only
      const properties = {};
      for (let t = 0; t + 1 < raw.tags.length; t += 2) {
        properties[layer.keys[raw.tags[t]]] = layer.values[raw.tags[t + 1]];
      }
      features.push({ properties: properties, points: points(raw.geometry) });
    }
    return { name: layer.name, extent: layer.extent, features: features };
  }

  function decode(buffer) {
    const r = new Reader(new Uint8Array(buffer));
    const layers = {};
    while (r.pos < r.buf.length) {
      const tag = r.varint();
      if (Math.floor(tag / 8) === 3 && (tag & 7) === 2) {
        const len = r.varint();
        const end = r.pos + len;
        const layer = readLayer(r, end);
        r.pos = end;
        layers[layer.name || "layer" + Object.keys(layers).length] = layer;
      } else {
        r.skip(tag & 7);
      }
    }
    return layers;
  }

  window.visitmapMVT = { decode: decode };
})();
