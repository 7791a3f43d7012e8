/*
 * The editor's canvas helpers: element ids, the element JSON of a graph (full detail, or zones
 * only for a graph too big to draw per asset), Cytoscape style, level of detail for big graphs,
 * and patching a drawn graph in place (window.WorkbenchCanvas, used by editor-diagram.js and
 * editor-panel.js).
 *
 * Issue 8 made a system of 500 assets and 1,500 flows open in well under 3 s; what that took on
 * the canvas side lives here: plain edges until arrows and labels can be seen, and local edits
 * that touch only the elements they change. No Alpine, no DOM.
 */
(function () {
  "use strict";

  /* Above this many elements the canvas trades detail for speed (issue 8: 500 assets, 1,500 flows). */
  var BIG = 800;
  /* Level of detail of a big graph's edges, by zoom (highest first). At the zoom that fits 500
     assets an arrowhead is a pixel and a 9px label is not drawn at all (min-zoomed-font-size 9),
     yet routing 1,500 bezier curves and measuring 1,500 labels took a third of the first draw: a
     big graph starts with plain lines and gets arrows, then labels, once they can be seen. */
  var EDGE_DETAIL = [[1, "detailed labelled"], [0.4, "detailed"]];
  var FULL_DETAIL = "detailed labelled";

  function edgeDetail(big, zoom) {
    if (!big) return FULL_DETAIL;
    for (var i = 0; i < EDGE_DETAIL.length; i++) {
      if (zoom >= EDGE_DETAIL[i][0]) return EDGE_DETAIL[i][1];
    }
    return "";
  }

  /* Canvas ids name the kind and the key: "a_12" for a saved asset, "a_anew1x..." for a new one. */
  function nodeId(kind, key) { return kind.charAt(0) + "_" + key; }

  function parseNodeId(id) {
    var kind = { z: "zone", a: "asset", f: "flow" }[id.charAt(0)];
    var raw = id.slice(2);
    return { kind: kind, key: /^[0-9]+$/.test(raw) ? parseInt(raw, 10) : raw };
  }

  /* Performance marks of the first load, read by bench/editor.py (graph parsed, canvas built, drawn). */
  function mark(name) { if (window.performance && performance.mark) performance.mark(name); }

  /* Grid positions for assets nobody has placed yet, one block per zone (cheap even for 1,000s). */
  function autoPositions(model, placed) {
    var byZone = {};
    Object.keys(model.base.asset).forEach(function (id) {
      if (placed[id]) return;
      var zone = model.base.asset[id].zone || 0;
      (byZone[zone] = byZone[zone] || []).push(id);
    });
    var out = {};
    var blockX = 0;
    Object.keys(byZone).sort().forEach(function (zone) {
      var ids = byZone[zone];
      var columns = Math.max(1, Math.ceil(Math.sqrt(ids.length)));
      ids.forEach(function (id, i) {
        out[id] = [blockX + (i % columns) * 140, Math.floor(i / columns) * 90];
      });
      blockX += columns * 140 + 120;
    });
    return out;
  }

  /* The element JSON of the full-detail level: the model's zones, assets and flows with the
     pending changes applied; with a focus (a zone id), only that zone is drawn. */
  function fullElements(model, focus) {
    var els = [];
    var placed = Object.assign({}, model.savedPositions, model.positions);
    var auto = autoPositions(model, placed);
    Object.keys(model.base.zone).forEach(function (id) {
      if (model.isDeleted("zone", Number(id))) return;
      if (focus && id !== focus) return;  // one zone drawn alone: the others are only choices
      var z = model.current("zone", Number(id));
      els.push({ group: "nodes", data: { id: nodeId("zone", id), label: z.name,
        parent: z.parent ? nodeId("zone", z.parent) : undefined }, classes: "zone trust" + z.trust_level });
    });
    model.creates.forEach(function (c) {
      if (c.kind === "zone") {
        els.push({ group: "nodes", data: { id: nodeId("zone", c.ref), label: c.data.name }, classes: "zone" });
      }
    });
    function assetNode(key, a, pending) {
      var pos = placed[key] || auto[key] || [0, 0];
      var zone = a.zone ? nodeId("zone", a.zone) : undefined;
      var crown = ["model_weights", "checkpoint", "adapter"].indexOf(a.kind) >= 0;
      return { group: "nodes", data: { id: nodeId("asset", key), label: a.name, parent: zone },
        position: { x: pos[0], y: pos[1] }, classes: "asset" + (crown ? " crown" : "") + (pending ? " pending" : "") };
    }
    Object.keys(model.base.asset).forEach(function (id) {
      if (model.isDeleted("asset", Number(id))) return;
      els.push(assetNode(id, model.current("asset", Number(id)), false));
    });
    model.creates.forEach(function (c) { if (c.kind === "asset") els.push(assetNode(c.ref, c.data, true)); });
    function flowEdge(key, f) {
      var classes = (f.authenticated && f.encrypted ? "" : "insecure") + (f.bidirectional ? " bidirectional" : "");
      return { group: "edges", data: { id: nodeId("flow", key), label: f.name,
        source: nodeId("asset", f.source), target: nodeId("asset", f.target) }, classes: classes };
    }
    var ids = {};
    els.forEach(function (e) { ids[e.data.id] = true; });
    Object.keys(model.base.flow).forEach(function (id) {
      if (model.isDeleted("flow", Number(id))) return;
      var f = model.current("flow", Number(id));
      var edge = flowEdge(id, f);
      if (ids[edge.data.source] && ids[edge.data.target]) els.push(edge);
    });
    model.creates.forEach(function (c) { if (c.kind === "flow") els.push(flowEdge(c.ref, c.data)); });
    els.forEach(function (e) {
      if (e.data.parent && !ids[e.data.parent]) delete e.data.parent;
    });
    return els;
  }

  function isZoneJson(e) { return e.group === "nodes" && /^zone\b/.test(e.classes); }

  /* Bring an existing canvas in line with freshly built element JSON, touching only what changed:
     rebuilding a 2,000-element graph on every local edit cost as much as the first draw (issue 8).
     Order matters: new zones exist before nodes move into them, nodes leave a zone before it is
     removed (removing a compound node removes its children), and edges come last. */
  function patchCanvas(cy, elements) {
    var wanted = {};
    elements.forEach(function (e) { wanted[e.data.id] = e; });
    var fresh = elements.filter(function (e) { return cy.getElementById(e.data.id).empty(); });
    cy.batch(function () {
      cy.add(fresh.filter(isZoneJson));
      cy.nodes().forEach(function (node) {
        var want = wanted[node.id()];
        if (want && (node.data("parent") || null) !== (want.data.parent || null)) node.move({ parent: want.data.parent || null });
      });
      cy.edges().forEach(function (edge) {
        var want = wanted[edge.id()];
        if (want && want.data.source === edge.data("source") && want.data.target === edge.data("target")) return;
        edge.remove();  // gone, or its ends changed (Cytoscape fixes an edge's ends when it is created)
        if (want) fresh.push(want);
      });
      cy.nodes().filter(function (node) { return !wanted[node.id()]; }).remove();
      cy.elements().forEach(function (el) {
        var want = wanted[el.id()];
        if (el.data("label") !== want.data.label) el.data("label", want.data.label);
        el.classes(want.classes);
        if (want.position && (el.position("x") !== want.position.x || el.position("y") !== want.position.y)) {
          el.position(want.position);
        }
      });
      cy.add(fresh.filter(function (e) { return e.group === "nodes" && !isZoneJson(e); }));
      cy.add(fresh.filter(function (e) { return e.group === "edges"; }));
    });
  }

  /* The "zones" level of a graph too big to draw asset by asset (issue 13, point 5): a node per
     zone labelled with its asset count, an edge per pair of zones labelled with the number of
     flows between them, on a plain grid. Tapping a zone opens it at full detail (editor-diagram.js). */
  function summaryElements(graph) {
    var els = [];
    var ids = {};
    var zones = (graph.zones || []).map(function (z) {
      return { id: "z_" + z.id, label: z.name + " · " + z.asset_count + " assets", classes: "zone-summary trust" + z.trust_level };
    });
    if (graph.unzoned_assets) {
      zones.push({ id: "z_none", label: "No zone · " + graph.unzoned_assets + " assets", classes: "zone-summary" });
    }
    var columns = Math.max(1, Math.ceil(Math.sqrt(zones.length)));
    zones.forEach(function (z, i) {
      ids[z.id] = true;
      els.push({ group: "nodes", data: { id: z.id, label: z.label }, classes: z.classes,
        position: { x: (i % columns) * 260, y: Math.floor(i / columns) * 160 } });
    });
    (graph.zone_flows || []).forEach(function (pair, i) {
      var source = pair.source_zone === null ? "z_none" : "z_" + pair.source_zone;
      var target = pair.target_zone === null ? "z_none" : "z_" + pair.target_zone;
      if (!ids[source] || !ids[target]) return;
      els.push({ group: "edges", data: { id: "zf_" + i, source: source, target: target,
        label: pair.count + (pair.count === 1 ? " flow" : " flows") }, classes: "detailed labelled" });
    });
    return els;
  }

  var STYLE = [
    { selector: "node", style: { "label": "data(label)", "font-size": 11, "text-valign": "center",
      "text-wrap": "ellipsis", "text-max-width": 110, "min-zoomed-font-size": 6 } },
    { selector: "node.asset", style: { "shape": "round-rectangle", "width": 120, "height": 44,
      "background-color": "#e8eefc", "border-width": 1, "border-color": "#2f5bd3" } },
    { selector: "node.asset.crown", style: { "border-width": 3, "border-color": "#b3261e" } },
    { selector: "node.asset.pending", style: { "border-style": "dashed" } },
    { selector: "node.zone", style: { "shape": "round-rectangle", "background-opacity": 0.06,
      "background-color": "#1d2330", "border-color": "#5d6678", "border-style": "dashed",
      "text-valign": "top", "text-halign": "center", "font-weight": "bold", "padding": 18 } },
    { selector: "node.zone.trust0", style: { "background-color": "#b3261e" } },
    { selector: "node.zone-summary", style: { "shape": "round-rectangle", "width": 200, "height": 64,
      "background-color": "#eef0f4", "border-width": 1, "border-color": "#5d6678", "text-max-width": 190 } },
    { selector: "node.zone-summary.trust0", style: { "border-color": "#b3261e", "border-width": 2 } },
    { selector: "edge", style: { "width": 1.5, "curve-style": "haystack", "line-color": "#7b8497" } },
    { selector: "edge.detailed", style: { "curve-style": "bezier", "target-arrow-shape": "triangle",
      "target-arrow-color": "#7b8497" } },
    { selector: "edge.labelled, edge:selected", style: { "label": "data(label)", "font-size": 9,
      "min-zoomed-font-size": 9, "text-rotation": "autorotate" } },
    { selector: "edge.insecure", style: { "line-color": "#c9662b", "target-arrow-color": "#c9662b" } },
    { selector: "edge.detailed.bidirectional", style: { "source-arrow-shape": "triangle", "source-arrow-color": "#7b8497" } },
    { selector: ":selected", style: { "border-color": "#ffbf47", "border-width": 4, "line-color": "#ffbf47",
      "target-arrow-color": "#ffbf47" } },
  ];

  window.WorkbenchCanvas = {
    BIG: BIG,
    FULL_DETAIL: FULL_DETAIL,
    STYLE: STYLE,
    autoPositions: autoPositions,
    edgeDetail: edgeDetail,
    fullElements: fullElements,
    mark: mark,
    nodeId: nodeId,
    parseNodeId: parseNodeId,
    patchCanvas: patchCanvas,
    summaryElements: summaryElements,
  };
})();
