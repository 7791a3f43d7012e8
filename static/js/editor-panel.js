/*
 * The editor's side panel part of the "editor" component (editor.js): the element list (the
 * keyboard way in), the selected element's form, adding zones, assets and flows, and deleting.
 *
 * Every edit becomes a pending operation of the model (editor-model.js) and is drawn at once;
 * nothing reaches the server until "Save changes" (editor-save.js). Options are built with
 * textContent, never markup, so element names can hold anything.
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

  var Canvas = window.WorkbenchCanvas;
  var nodeId = Canvas.nodeId;
  var parts = window.WorkbenchEditorParts = window.WorkbenchEditorParts || {};

  parts.panel = function (view) {
    return {
      syncMeta: function () {
        var model = view.model;
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
        var model = view.model;
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

      pickChanged: function (event) {
        var value = event.target.value;
        if (!value) { this.select("", ""); return; }
        if (value === "all") { this.openZone(""); return; }
        var parsed = Canvas.parseNodeId(value);
        if (view.model.level === "zones" && parsed.kind === "zone") { this.openZone(parsed.key); return; }
        this.select(parsed.kind, parsed.key);
        var cy = view.cy;
        if (cy) {
          var el = cy.getElementById(value);
          cy.elements().unselect();
          if (el.nonempty()) { el.select(); cy.center(el); }
        }
      },

      select: function (kind, key) {
        var model = view.model;
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

      isKind: function (kind) { return this.selectedKind === kind; },
      hasSelection: function () { return this.selectedKind !== ""; },
      isAsset: function () { return this.selectedKind === "asset"; },
      isFlow: function () { return this.selectedKind === "flow"; },
      isZone: function () { return this.selectedKind === "zone"; },
      readOnly: function () { return !this.canEdit; },

      /* Fields from the side panel become a pending update holding only what changed. */
      applyForm: function () {
        if (!this.selectedKind || !this.canEdit) return;
        var cy = view.cy;
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
        view.model.update(kind, this.selectedKey, fields);
        this.pendingCount = view.model.pendingCount();
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
        var model = view.model;
        var cy = view.cy;
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
        cy = view.cy;  // the drawing may have been made anew
        if (cy) cy.fit(cy.elements(), 30);
        if (cy && cy.zoom() > 1.2) { cy.zoom(1.2); cy.center(); }
        this.select("asset", ref);
        this.focusName();
      },

      addZone: function () {
        var model = view.model;
        var count = Object.keys(model.base.zone).length + model.creates.length + 1;
        var ref = model.create("zone", { name: "New zone " + count, trust_level: 2 });
        this.afterLocalChange();
        this.select("zone", ref);
        this.focusName();
      },

      addFlow: function (source, target) {
        var model = view.model;
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

      askDelete: function () { this.confirmingDelete = true; },
      cancelDelete: function () { this.confirmingDelete = false; },

      confirmDelete: function () {
        view.model.remove(this.selectedKind, this.selectedKey);
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
        this.status = view.model.pendingCount() + " unsaved change(s)";
      },

      discard: function () {
        view.model.clearPending();
        this.select("", "");
        this.afterLocalChange();
      },
    };
  };
})();
