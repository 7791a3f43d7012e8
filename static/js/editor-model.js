/*
 * The editor's data: the graph as last read from the server plus the user's unsaved changes.
 *
 * Changes are kept as operations (creates with a client ref, per-element updates holding only
 * the fields the user changed, deletes), not as a copy of the whole graph: a batch then sends
 * just what the user did, and "keep mine and retry" after a conflict re-applies exactly those
 * operations onto the newer version instead of overwriting someone else's fields.
 * No DOM and no Cytoscape here.
 */
(function () {
  "use strict";

  var KIND_ORDER = { zone: 0, asset: 1, flow: 2 };

  function EditorModel(graph) {
    this.load(graph);
    this.creates = [];      // [{kind, ref, data}]
    this.updates = {};      // "kind:id" -> {kind, id, data}
    this.deletes = [];      // [{kind, id}]
    this.positions = {};    // asset id or ref -> [x, y] (unsaved positions of new assets)
    this.counter = 0;
  }

  EditorModel.prototype.load = function (graph) {
    /* "full": every element in scope; "zones": a system too big to draw per asset, given as zones
       with counts (the graph itself is kept in summary, and there is nothing to edit). */
    this.level = graph.level || "full";
    this.summary = this.level === "zones" ? graph : null;
    this.totals = graph.totals || {};
    this.limit = graph.limit || 0;
    this.version = graph.version;
    this.riskVersion = graph.risk_version;  // the results version the findings below belong to
    this.canEdit = !!graph.can_edit;
    this.choices = graph.choices || { kind: [], authentication: [] };
    this.findings = graph.findings || {};
    this.savedPositions = graph.positions || {};
    this.base = { zone: {}, asset: {}, flow: {} };
    var self = this;
    (graph.zones || []).forEach(function (z) { self.base.zone[z.id] = z; });
    (graph.assets || []).forEach(function (a) { self.base.asset[a.id] = a; });
    (graph.flows || []).forEach(function (f) { self.base.flow[f.id] = f; });
  };

  EditorModel.prototype.pendingCount = function () {
    return this.creates.length + Object.keys(this.updates).length + this.deletes.length;
  };

  EditorModel.prototype.newRef = function (prefix) {
    this.counter += 1;
    return prefix + "new" + this.counter + "x" + Date.now().toString(36);
  };

  /* Create a zone, asset or flow; returns its ref (the key until the server gives an id). */
  EditorModel.prototype.create = function (kind, data) {
    var ref = this.newRef(kind.charAt(0));
    this.creates.push({ kind: kind, ref: ref, data: Object.assign({}, data) });
    return ref;
  };

  EditorModel.prototype.findCreate = function (ref) {
    for (var i = 0; i < this.creates.length; i++) {
      if (this.creates[i].ref === ref) return this.creates[i];
    }
    return null;
  };

  /* The element as the user currently sees it (server state with pending changes applied). */
  EditorModel.prototype.current = function (kind, key) {
    var created = typeof key === "string" ? this.findCreate(key) : null;
    if (created) return Object.assign({ ref: key }, created.data);
    var base = this.base[kind][key];
    if (!base) return null;
    var upd = this.updates[kind + ":" + key];
    return Object.assign({}, base, upd ? upd.data : {});
  };

  /* Record the fields that differ from the server's copy (an edit back to the original drops out). */
  EditorModel.prototype.update = function (kind, key, fields) {
    var created = typeof key === "string" ? this.findCreate(key) : null;
    if (created) {
      Object.assign(created.data, fields);
      return;
    }
    var base = this.base[kind][key];
    if (!base) return;
    var slot = kind + ":" + key;
    var data = Object.assign({}, this.updates[slot] ? this.updates[slot].data : {}, fields);
    Object.keys(data).forEach(function (name) {
      if (base[name] === data[name]) delete data[name];
    });
    if (Object.keys(data).length) this.updates[slot] = { kind: kind, id: key, data: data };
    else delete this.updates[slot];
  };

  /* Delete an element; an unsaved one simply disappears with the flows drawn to or from it. */
  EditorModel.prototype.remove = function (kind, key) {
    if (typeof key === "string" && this.findCreate(key)) {
      this.creates = this.creates.filter(function (c) {
        if (c.ref === key) return false;
        return !(c.kind === "flow" && (c.data.source === key || c.data.target === key));
      });
      delete this.positions[key];
      return;
    }
    delete this.updates[kind + ":" + key];
    this.deletes.push({ kind: kind, id: key });
    if (kind === "asset") {
      var self = this;
      this.creates = this.creates.filter(function (c) {
        return !(c.kind === "flow" && (c.data.source === key || c.data.target === key));
      });
      Object.keys(this.updates).forEach(function (slot) {
        var u = self.updates[slot];
        if (u.kind === "flow") {
          var flow = self.base.flow[u.id];
          if (flow && (flow.source === key || flow.target === key)) delete self.updates[slot];
        }
      });
    }
  };

  EditorModel.prototype.isDeleted = function (kind, key) {
    return this.deletes.some(function (d) { return d.kind === kind && d.id === key; });
  };

  /* The batch body: creates (zones, assets, flows), then updates, then deletes (flows first). */
  EditorModel.prototype.operations = function () {
    var ops = [];
    this.creates.slice().sort(function (a, b) { return KIND_ORDER[a.kind] - KIND_ORDER[b.kind]; })
      .forEach(function (c) { ops.push({ op: "create", kind: c.kind, ref: c.ref, data: c.data }); });
    var updates = this.updates;
    Object.keys(updates).forEach(function (slot) {
      var u = updates[slot];
      ops.push({ op: "update", kind: u.kind, id: u.id, data: u.data });
    });
    this.deletes.slice().sort(function (a, b) { return KIND_ORDER[b.kind] - KIND_ORDER[a.kind]; })
      .forEach(function (d) { ops.push({ op: "delete", kind: d.kind, id: d.id }); });
    return ops;
  };

  EditorModel.prototype.positionList = function () {
    var positions = this.positions;
    return Object.keys(positions).map(function (key) {
      return { asset: key, x: positions[key][0], y: positions[key][1] };
    });
  };

  EditorModel.prototype.clearPending = function () {
    this.creates = [];
    this.updates = {};
    this.deletes = [];
    this.positions = {};
  };

  /* Pending changes that name elements the newer graph no longer has (for the retry message). */
  EditorModel.prototype.orphans = function () {
    var base = this.base;
    var lost = [];
    Object.keys(this.updates).forEach(function (slot) {
      var u = this.updates[slot];
      if (!base[u.kind][u.id]) lost.push(u.kind + " " + u.id);
    }, this);
    this.deletes.forEach(function (d) {
      if (!base[d.kind][d.id]) lost.push(d.kind + " " + d.id);
    });
    return lost;
  };

  /* After a newer graph is loaded: deletes of already-deleted elements are simply done. */
  EditorModel.prototype.dropSettled = function () {
    var base = this.base;
    this.deletes = this.deletes.filter(function (d) { return !!base[d.kind][d.id]; });
  };

  window.WorkbenchEditorModel = EditorModel;
})();
