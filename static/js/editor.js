/*
 * The diagram editor island of the system page (Alpine.data "editor" around Cytoscape.js).
 *
 * Reads the graph from the API, keeps the user's edits as pending operations and saves them in
 * one batch with If-Match on the system version. Everything user-provided reaches the page
 * through x-text / x-model or textContent (never innerHTML) and the canvas, so no markup is
 * ever built from names.
 *
 * The component is put together here from one part per responsibility, each in its own file
 * and loaded before this one:
 *   editor-model.js    the graph as read plus the pending operations (WorkbenchEditorModel)
 *   editor-canvas.js   element ids and JSON, style, in-place patching (WorkbenchCanvas; no Alpine)
 *   editor-diagram.js  the Cytoscape instance: drawing, zoom detail, taps, drags, one zone alone
 *   editor-panel.js    the element list and the side panel's forms, adding and deleting
 *   editor-save.js     the batch save, the conflict dialog, saving dragged positions
 * This file holds the reactive state, the first load, and following the version poller.
 * The parts share one plain `view` object (the Cytoscape instance, the model, the pending
 * "Connect" source) that stays off the component: Alpine must never proxy Cytoscape.
 */
(function () {
  "use strict";

  var Canvas = window.WorkbenchCanvas;

  function editorComponent() {
    var parts = window.WorkbenchEditorParts;
    var view = {
      cy: null,                           // the Cytoscape instance (not reactive)
      model: null,                        // the WorkbenchEditorModel, once the graph is read
      connectFrom: null,                  // "Connect": the source asset chosen first
      big: false,                         // the canvas was made for more than Canvas.BIG elements
      drawnLevel: "",                     // "full" or "zones": the level the canvas was made for
      edgeClasses: Canvas.FULL_DETAIL,    // the detail classes every edge carries now
    };

    var component = {
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
          if (view.model && view.model.pendingCount()) { event.preventDefault(); event.returnValue = ""; }
        });
        this.fetchGraph().then(function (graph) {
          Canvas.mark("editor-graph-loaded");
          view.model = new window.WorkbenchEditorModel(graph);
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

      reload: function () {
        var self = this;
        return this.fetchGraph().then(function (graph) {
          view.model.load(graph);
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
        var model = view.model;
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
    return Object.assign(component, parts.diagram(view), parts.panel(view), parts.save(view));
  }

  document.addEventListener("alpine:init", function () {
    window.Alpine.data("editor", editorComponent);
  });
})();
