/*
 * The diagram editor island of the system page (Alpine.data "editor" around Cytoscape.js).
 *
 * Reads the graph from the API, keeps the user's edits as pending operations
 * (WorkbenchEditorModel), and saves them in one batch with If-Match on the system version.
 * A 412 opens the conflict dialog: reload (drop mine) or keep mine and retry on the newer
 * version. Drags save positions through the layout endpoint, which neither bumps the version
 * nor writes audit events. Everything user-provided reaches the page through x-text / x-model
 * or textContent (never innerHTML) and the canvas, so no markup is ever built from names.
 */
(function () {
  "use strict";

  var ASSET_FIELDS = ["name", "kind", "zone", "criticality", "authentication", "internet_facing", "mfa",
    "encrypted_at_rest", "rate_limited", "logging", "monitored", "third_party", "model_class",
    "output_granularity", "value_min", "value_likely", "value_max", "description"];
  var NUMBER_FIELDS = ["criticality", "trust_level", "value_min", "value_likely", "value_max"];
  var FLOW_FIELDS = ["name", "protocol", "authenticated", "encrypted", "bidirectional"];
  var ZONE_FIELDS = ["name", "trust_level"];
  var FIELDS = { asset: ASSET_FIELDS, flow: FLOW_FIELDS, zone: ZONE_FIELDS };

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function nodeId(kind, key) { return kind.charAt(0) + "_" + key; }

  /* Performance marks of the first load, read by bench/editor.py (graph parsed, canvas built, drawn). */
  function mark(name) { if (window.performance && performance.mark) performance.mark(name); }

  function parseNodeId(id) {
    var kind = { z: "zone", a: "asset", f: "flow" }[id.charAt(0)];
    var raw = id.slice(2);
    return { kind: kind, key: /^[0-9]+$/.test(raw) ? parseInt(raw, 10) : raw };
  }

  function describeErrors(body) {
    if (!body) return "The change could not be saved.";
    var parts = [body.detail || "The change could not be saved."];
    if (body.errors) {
      Object.keys(body.errors).forEach(function (field) {
        var messages = body.errors[field];
        parts.push(field + ": " + (Array.isArray(messages) ? messages.join(" ") : JSON.stringify(messages)));
      });
    }
    return parts.join(" ");
  }

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

  var Canvas = window.WorkbenchCanvas;

  function editorComponent() {
    var cy = null;       // not reactive: Alpine must never proxy Cytoscape
    var model = null;
    var connectFrom = null;
    var big = false;                        // the canvas was made for more than Canvas.BIG elements
    var drawnLevel = "";                    // "full" or "zones": the level the canvas was made for
    var edgeClasses = Canvas.FULL_DETAIL;   // the detail classes every edge carries now

    /* Follow the zoom with a big graph's edge detail (a restyle of every edge, so only on a change). */
    function syncEdgeDetail() {
      var want = Canvas.edgeDetail(big, cy.zoom());
      if (want === edgeClasses) return;
      var edges = cy.edges();
      cy.batch(function () {
        edges.removeClass(Canvas.FULL_DETAIL);
        if (want) edges.addClass(want);
      });
      edgeClasses = want;
    }

    return {
      state: "loading",
      status: "Loading the diagram…",
      error: "",
      canEdit: false,
      version: 0,
      pendingCount: 0,
      saving: false,
      conflict: false,
      conflictVersion: 0,
      conflictNote: "",
      connectMode: false,
      confirmingDelete: false,
      newKind: "inference_endpoint",
      kindChoices: [],
      authChoices: [],
      modelClassChoices: [],
      granularityChoices: [],
      zoneChoices: [],
      assetChoices: [],
      selectedKind: "",
      selectedKey: "",
      selectedTitle: "Nothing selected",
      form: {},
      findings: [],
      findingsTotal: "",
      flowTarget: "",
      nextColumn: 0,
      nextStatus: "",
      zoneFocus: "",     // a zone id when only that zone is drawn (?zone=), "" for the whole system

      init: function () {
        var self = this;
        this.urls = { graph: this.$el.dataset.graphUrl, batch: this.$el.dataset.batchUrl,
          layout: this.$el.dataset.layoutUrl, findings: this.$el.dataset.findingsUrl };
        window.addEventListener("workbench:reload", function () { self.reload(); });
        window.addEventListener("workbench:version", function (event) { self.onVersion(event.detail); });
        window.addEventListener("beforeunload", function (event) {
          if (model && model.pendingCount()) { event.preventDefault(); event.returnValue = ""; }
        });
        this.fetchGraph().then(function (graph) {
          mark("editor-graph-loaded");
          model = new window.WorkbenchEditorModel(graph);
          self.draw();
        }).catch(function (err) { self.fail(err); });
      },

      fetchGraph: function () {
        var self = this;
        var url = this.urls.graph + (this.zoneFocus ? "?zone=" + encodeURIComponent(this.zoneFocus) : "");
        return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
          .then(function (r) {
            // The zone drawn alone is gone (deleted here or by someone else): back to the whole system.
            if (r.status === 400 && self.zoneFocus) { self.zoneFocus = ""; return self.fetchGraph(); }
            if (!r.ok) throw new Error("The diagram could not be loaded (HTTP " + r.status + ").");
            return r.json();
          });
      },

      fail: function (err) {
        this.state = "error";
        this.error = err && err.message ? err.message : String(err);
      },

      syncMeta: function () {
        this.version = model.version;
        this.canEdit = model.canEdit;
        this.pendingCount = model.pendingCount();
        this.kindChoices = model.choices.kind;
        this.authChoices = model.choices.authentication;
        this.modelClassChoices = model.choices.model_class || [];
        this.granularityChoices = model.choices.output_granularity || [];
        var zones = Object.keys(model.base.zone).map(function (id) { return model.base.zone[id]; });
        model.creates.forEach(function (c) { if (c.kind === "zone") zones.push({ id: c.ref, name: c.data.name }); });
        this.zoneChoices = zones.map(function (z) { return { value: String(z.id), label: z.name }; });
        this.fillPicker();
      },

      /* The keyboard way in: every element in a select (built with textContent, fast for 1,000s). */
      fillPicker: function () {
        var picker = this.$refs.picker;
        var flowTarget = this.$refs.flowTarget;
        if (!picker) return;
        var groups = { zone: "Trust zones", asset: "Assets", flow: "Data flows" };
        var selectedValue = this.selectedKind ? nodeId(this.selectedKind, this.selectedKey) : "";
        picker.textContent = "";
        var none = document.createElement("option");
        none.value = "";
        none.textContent = "— choose an element —";
        picker.appendChild(none);
        if (this.zoneFocus) {
          var back = document.createElement("option");
          back.value = "all";
          back.textContent = "↩ All zones of the system";
          picker.appendChild(back);
        }
        var assets = [];
        Object.keys(groups).forEach(function (kind) {
          var group = document.createElement("optgroup");
          group.label = groups[kind];
          var keys = Object.keys(model.base[kind]).map(Number).filter(function (k) { return !model.isDeleted(kind, k); });
          model.creates.forEach(function (c) { if (c.kind === kind) keys.push(c.ref); });
          keys.forEach(function (key) {
            var el = model.current(kind, key);
            var option = document.createElement("option");
            option.value = nodeId(kind, key);
            option.textContent = el.name || "(unnamed)";
            group.appendChild(option);
            if (kind === "asset") assets.push([String(key), el.name]);
          });
          picker.appendChild(group);
        });
        picker.value = selectedValue;
        if (flowTarget) {
          flowTarget.textContent = "";
          assets.forEach(function (a) {
            var option = document.createElement("option");
            option.value = a[0];
            option.textContent = a[1];
            flowTarget.appendChild(option);
          });
        }
      },

      elementsFor: function () {
        var els = [];
        var placed = Object.assign({}, model.savedPositions, model.positions);
        var auto = autoPositions(model, placed);
        var focus = this.zoneFocus;
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
      },

      draw: function () {
        var self = this;
        var container = this.$refs.canvas;
        var summary = model.level === "zones";
        var elements = summary ? Canvas.summaryElements(model.summary) : this.elementsFor();
        if (cy && drawnLevel !== model.level) { cy.destroy(); cy = null; }  // zones and assets share no element
        drawnLevel = model.level;
        if (summary) this.nextStatus = this.summaryStatus();
        if (!cy) big = elements.length > Canvas.BIG;
        edgeClasses = Canvas.edgeDetail(big, cy ? cy.zoom() : 0);
        if (edgeClasses) elements.forEach(function (e) { if (e.group === "edges") e.classes += " " + edgeClasses; });
        if (cy) {
          Canvas.patchCanvas(cy, elements);
        } else {
          cy = window.cytoscape({ container: container, style: Canvas.STYLE, wheelSensitivity: 0.3,
            textureOnViewport: big, hideEdgesOnViewport: big, pixelRatio: big ? 1 : "auto",
            boxSelectionEnabled: false, minZoom: 0.05, maxZoom: 4 });
          cy.add(elements);
          cy.fit(cy.elements(), 30);
          if (cy.zoom() > 1.2) { cy.zoom(1.2); cy.center(); }
          syncEdgeDetail();
          mark("editor-cy-created");
          cy.on("tap", "node, edge", function (event) { self.onTap(event.target); });
          cy.on("tap", function (event) { if (event.target === cy) self.select("", ""); });
          cy.on("dragfree", "node.asset", function (event) { self.onDragged(event.target); });
          cy.on("zoom", syncEdgeDetail);
        }
        this.syncMeta();
        if (this.selectedKind) this.select(this.selectedKind, this.selectedKey);
        cy.autoungrabify(!model.canEdit);
        cy.one("render", function () {
          self.state = "ready";
          self.status = self.nextStatus || ("Version " + model.version + (model.pendingCount() ? "" : " · all changes saved") +
            (self.zoneFocus && !summary ? " · one zone drawn (“↩ All zones” in the element list goes back)" : ""));
          self.nextStatus = "";
          mark("editor-rendered");
        });
        cy.resize();
      },

      onTap: function (target) {
        if (model.level === "zones") {
          if (target.isNode() && target.id() === "z_none") this.status = "Assets in no zone are listed in the tables below.";
          else if (target.isNode()) this.openZone(target.id().slice(2));
          return;
        }
        var parsed = parseNodeId(target.id());
        if (this.connectMode && parsed.kind === "asset") {
          if (connectFrom === null) {
            connectFrom = parsed.key;
            this.status = "Connect: now choose the target asset.";
            return;
          }
          if (connectFrom !== parsed.key) this.addFlow(connectFrom, parsed.key);
          connectFrom = null;
          this.connectMode = false;
          return;
        }
        this.select(parsed.kind, parsed.key);
      },

      onDragged: function (node) {
        var parsed = parseNodeId(node.id());
        var pos = node.position();
        if (typeof parsed.key === "string") {
          model.positions[parsed.key] = [pos.x, pos.y];
          return;
        }
        model.savedPositions[parsed.key] = [pos.x, pos.y];
        if (!model.canEdit) return;
        var self = this;
        fetch(this.urls.layout, { method: "PUT", credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(), Accept: "application/json" },
          body: JSON.stringify({ positions: [{ asset: String(parsed.key), x: pos.x, y: pos.y }] }) })
          .then(function (r) { if (!r.ok) self.error = "The new position could not be saved."; });
      },

      pickChanged: function (event) {
        var value = event.target.value;
        if (!value) { this.select("", ""); return; }
        if (value === "all") { this.openZone(""); return; }
        var parsed = parseNodeId(value);
        if (model.level === "zones" && parsed.kind === "zone") { this.openZone(parsed.key); return; }
        this.select(parsed.kind, parsed.key);
        if (cy) {
          var el = cy.getElementById(value);
          cy.elements().unselect();
          if (el.nonempty()) { el.select(); cy.center(el); }
        }
      },

      select: function (kind, key) {
        this.confirmingDelete = false;
        this.selectedKind = kind;
        this.selectedKey = key;
        if (!kind) {
          this.selectedTitle = "Nothing selected";
          this.form = {};
          this.findings = [];
          this.findingsTotal = "";
          return;
        }
        var el = model.current(kind, key);
        if (!el) { this.select("", ""); return; }
        var form = {};
        FIELDS[kind].forEach(function (name) { form[name] = el[name] === null || el[name] === undefined ? "" : el[name]; });
        if (kind === "asset") form.zone = el.zone ? String(el.zone) : "";
        this.form = form;
        this.selectedTitle = { zone: "Trust zone", asset: "Asset", flow: "Data flow" }[kind] + ": " + (el.name || "");
        var found = typeof key === "number" ? (model.findings[kind + ":" + key] || []) : [];
        this.findings = found.map(function (f) {
          return { id: f.id, label: f.code + " " + f.name, risk: f.current_mean === null ? "not computed"
            : Math.round(f.current_mean).toLocaleString("en-US") + " / yr", status: f.status };
        });
        var total = found.reduce(function (sum, f) { return sum + (f.current_mean || 0); }, 0);
        this.findingsTotal = found.length ? Math.round(total).toLocaleString("en-US") + " / yr" : "";
        if (this.$refs.picker) this.$refs.picker.value = nodeId(kind, key);
      },

      /* Too big to draw per asset: say so, and how to get at the assets (issue 13, point 5). */
      summaryStatus: function () {
        var t = model.totals;
        var where = this.zoneFocus ? "This zone has" : "This system has";
        return where + " more zones, assets and flows than the diagram draws at once (" + model.limit +
          "; the system: " + (t.assets || 0) + " assets, " + (t.flows || 0) + " flows). Choose a zone to open it" +
          (this.zoneFocus ? " (this one is too big too: use the tables below)" : "") + ", or use the tables below.";
      },

      /* Draw one zone only ("" for the whole system); unsaved changes must be saved first. */
      openZone: function (zone) {
        if (model.pendingCount()) { this.error = "Save or discard your changes before opening another zone."; return; }
        this.error = "";
        this.zoneFocus = zone ? String(zone) : "";
        this.select("", "");
        this.status = "Loading the diagram…";
        this.reload();
      },

      isKind: function (kind) { return this.selectedKind === kind; },
      hasSelection: function () { return this.selectedKind !== ""; },
      isAsset: function () { return this.selectedKind === "asset"; },
      isFlow: function () { return this.selectedKind === "flow"; },
      isZone: function () { return this.selectedKind === "zone"; },
      cannotSave: function () { return this.saving || this.pendingCount === 0 || !this.canEdit; },
      nothingPending: function () { return this.pendingCount === 0; },
      readOnly: function () { return !this.canEdit; },

      /* Fields from the side panel become a pending update holding only what changed. */
      applyForm: function () {
        if (!this.selectedKind || !this.canEdit) return;
        var kind = this.selectedKind;
        var fields = {};
        var form = this.form;
        FIELDS[kind].forEach(function (name) { fields[name] = form[name]; });
        NUMBER_FIELDS.forEach(function (name) {
          if (name in fields) fields[name] = fields[name] === "" ? 0 : Number(fields[name]);
        });
        if (kind === "asset") {
          fields.zone = form.zone === "" ? null : (/^[0-9]+$/.test(form.zone) ? parseInt(form.zone, 10) : form.zone);
        }
        model.update(kind, this.selectedKey, fields);
        this.pendingCount = model.pendingCount();
        this.status = this.pendingCount + " unsaved change(s)";
        var el = cy && cy.getElementById(nodeId(kind, this.selectedKey));
        if (el && el.nonempty()) {
          el.data("label", fields.name);
          if (kind === "asset") {
            var parent = fields.zone ? nodeId("zone", fields.zone) : null;
            var moved = (el.data("parent") || null) !== parent;  // a move re-creates the node: not per keystroke
            if (moved && parent && cy.getElementById(parent).nonempty()) el.move({ parent: parent });
            else if (moved && !parent) el.move({ parent: null });
          }
        }
        this.selectedTitle = this.selectedTitle.split(": ")[0] + ": " + fields.name;
        this.renameOption(kind, this.selectedKey, fields.name);
      },

      /* A rename touches its own option(s), not the 2,000 of a big graph (fillPicker rebuilds all). */
      renameOption: function (kind, key, name) {
        var value = nodeId(kind, key);
        var label = name || "(unnamed)";
        var picker = this.$refs.picker;
        var i;
        for (i = 0; picker && i < picker.options.length; i++) {
          if (picker.options[i].value === value) picker.options[i].textContent = label;
        }
        var flowTarget = this.$refs.flowTarget;
        for (i = 0; kind === "asset" && flowTarget && i < flowTarget.options.length; i++) {
          if (flowTarget.options[i].value === String(key)) flowTarget.options[i].textContent = name;
        }
      },

      addAsset: function () {
        var count = Object.keys(model.base.asset).length + model.creates.length + 1;
        var placedAssets = cy ? cy.nodes(".asset") : null;
        var box = placedAssets && placedAssets.nonempty() ? placedAssets.boundingBox() : { x2: -160, y1: 0 };
        var fresh = model.creates.filter(function (c) { return c.kind === "asset"; }).length;
        var ref = model.create("asset", { name: "New asset " + count, kind: this.newKind, criticality: 3,
          authentication: "sso", internet_facing: false, mfa: false, encrypted_at_rest: false,
          rate_limited: false, logging: false, monitored: false, third_party: false, model_class: "",
          output_granularity: "", value_min: 0, value_likely: 0, value_max: 0, description: "",
          zone: this.zoneFocus ? parseInt(this.zoneFocus, 10) : null });  // drawn alone, a zone takes what is added
        // New assets line up in a column right of the drawing, where they never cover another.
        model.positions[ref] = fresh ? [this.nextColumn, box.y1 + fresh * 80] : [box.x2 + 160, box.y1];
        if (!fresh) this.nextColumn = box.x2 + 160;
        this.afterLocalChange();
        if (cy) cy.fit(cy.elements(), 30);
        if (cy && cy.zoom() > 1.2) { cy.zoom(1.2); cy.center(); }
        this.select("asset", ref);
        this.focusName();
      },

      addZone: function () {
        var count = Object.keys(model.base.zone).length + model.creates.length + 1;
        var ref = model.create("zone", { name: "New zone " + count, trust_level: 2 });
        this.afterLocalChange();
        this.select("zone", ref);
        this.focusName();
      },

      addFlow: function (source, target) {
        var from = model.current("asset", source);
        var to = model.current("asset", target);
        if (!from || !to) return;
        var ref = model.create("flow", { name: from.name + " to " + to.name, source: source, target: target,
          protocol: "https", authenticated: true, encrypted: true, bidirectional: false });
        this.afterLocalChange();
        this.select("flow", ref);
        this.focusName();
      },

      /* The keyboard alternative to "Connect": a flow from the selected asset to the chosen one. */
      addFlowToChosen: function () {
        if (!this.isAsset() || !this.flowTarget) return;
        var target = /^[0-9]+$/.test(this.flowTarget) ? parseInt(this.flowTarget, 10) : this.flowTarget;
        if (target === this.selectedKey) { this.error = "A flow needs two different assets."; return; }
        this.error = "";
        this.addFlow(this.selectedKey, target);
      },

      toggleConnect: function () {
        this.connectMode = !this.connectMode;
        connectFrom = null;
        this.status = this.connectMode ? "Connect: choose the source asset, then the target." : "";
      },

      askDelete: function () { this.confirmingDelete = true; },
      cancelDelete: function () { this.confirmingDelete = false; },

      confirmDelete: function () {
        model.remove(this.selectedKind, this.selectedKey);
        this.confirmingDelete = false;
        this.select("", "");
        this.afterLocalChange();
      },

      focusName: function () {
        var self = this;
        this.$nextTick(function () {
          var input = self.$root.querySelector("[data-name-field='" + self.selectedKind + "']");
          if (input) input.focus();
        });
      },

      afterLocalChange: function () {
        this.error = "";
        this.draw();
        this.status = model.pendingCount() + " unsaved change(s)";
      },

      discard: function () {
        model.clearPending();
        this.select("", "");
        this.afterLocalChange();
      },

      save: function () {
        if (!model.pendingCount() || this.saving) return Promise.resolve();
        var self = this;
        this.saving = true;
        this.error = "";
        this.status = "Saving…";
        var body = { operations: model.operations(), positions: model.positionList() };
        return fetch(this.urls.batch, { method: "POST", credentials: "same-origin",
          headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken(),
            "If-Match": '"v' + model.version + '"' },
          body: JSON.stringify(body) })
          .then(function (r) { return r.json().catch(function () { return null; }).then(function (b) { return [r, b]; }); })
          .then(function (pair) {
            var r = pair[0], b = pair[1];
            self.saving = false;
            if (r.status === 412) {
              self.conflict = true;
              self.conflictVersion = b && b.version ? b.version : 0;
              self.conflictNote = "";
              self.status = "Not saved: conflict";
              self.$nextTick(function () { if (self.$refs.conflictRetry) self.$refs.conflictRetry.focus(); });
              return null;
            }
            if (!r.ok) {
              self.error = describeErrors(b);
              self.status = "Not saved";
              return null;
            }
            var selected = self.selectedKind;
            var key = self.selectedKey;
            if (typeof key === "string" && b.refs && b.refs[key]) key = b.refs[key];
            model.clearPending();
            window.dispatchEvent(new CustomEvent("workbench:saved", { detail: { version: b.version } }));
            return self.fetchGraph().then(function (graph) {
              model.load(graph);
              self.selectedKind = selected;
              self.selectedKey = key;
              self.nextStatus = "Saved · version " + model.version;
              self.status = self.nextStatus;
              self.draw();
            });
          })
          .catch(function (err) { self.saving = false; self.fail(err); });
      },

      /* Conflict: drop my changes and show the newer version. */
      reloadDiscard: function () {
        model.clearPending();
        this.conflict = false;
        this.reload();
      },

      /* Conflict: load the newer version, re-apply my pending operations onto it, save again. */
      retryMine: function () {
        var self = this;
        return this.fetchGraph().then(function (graph) {
          model.load(graph);
          model.dropSettled();
          var lost = model.orphans();
          if (lost.length) {
            self.conflictNote = "These changes name elements someone else deleted: " + lost.join(", ") +
              ". Discard them or reload.";
            self.draw();
            return null;
          }
          self.conflict = false;
          self.draw();
          return self.save();
        }).catch(function (err) { self.fail(err); });
      },

      reload: function () {
        var self = this;
        return this.fetchGraph().then(function (graph) {
          model.load(graph);
          self.draw();
        }).catch(function (err) { self.fail(err); });
      },

      /* The poller saw a new version or new results: refresh findings of a clean editor. */
      onVersion: function (detail) {
        /* Reload when the results version differs from the one the drawn findings were read
           under (the graph says which), not only on a change the poller itself saw: a worker
           may finish between the save's own reload and the next poll. A graph that is already
           current is not fetched and drawn a second time (issue 8: that redraw of a big system
           cost as much as the first one). */
        if (!model || this.saving || model.pendingCount()) return;
        if (detail.riskVersion === model.riskVersion) return;
        var self = this;
        this.fetchGraph().then(function (graph) {
          if (model.pendingCount()) return;
          model.load(graph);
          self.draw();
        });
      },
    };
  }

  document.addEventListener("alpine:init", function () {
    window.Alpine.data("editor", editorComponent);
  });
})();
