/*
 * The editor's diagram part: the Cytoscape instance of the "editor" component (editor.js).
 *
 * Draws the model (full detail, or zones only for a graph too big to draw per asset), follows
 * the zoom with a big graph's edge detail, and turns taps and drags into selections, new flows
 * ("Connect") and saved positions. The instance lives in the shared `view` object, never on the
 * component, because Alpine must not proxy Cytoscape.
 */
(function () {
  "use strict";

  var Canvas = window.WorkbenchCanvas;
  var parts = window.WorkbenchEditorParts = window.WorkbenchEditorParts || {};

  parts.diagram = function (view) {
    /* Follow the zoom with a big graph's edge detail (a restyle of every edge, so only on a change). */
    function syncEdgeDetail() {
      var cy = view.cy;
      var want = Canvas.edgeDetail(view.big, cy.zoom());
      if (want === view.edgeClasses) return;
      var edges = cy.edges();
      cy.batch(function () {
        edges.removeClass(Canvas.FULL_DETAIL);
        if (want) edges.addClass(want);
      });
      view.edgeClasses = want;
    }

    return {
      draw: function () {
        var self = this;
        var model = view.model;
        var container = this.$refs.canvas;
        var summary = model.level === "zones";
        var elements = summary ? Canvas.summaryElements(model.summary) : Canvas.fullElements(model, this.zoneFocus);
        if (view.cy && view.drawnLevel !== model.level) { view.cy.destroy(); view.cy = null; }  // zones and assets share no element
        view.drawnLevel = model.level;
        if (summary) this.nextStatus = this.summaryStatus();
        if (!view.cy) view.big = elements.length > Canvas.BIG;
        var big = view.big;
        var edgeClasses = view.edgeClasses = Canvas.edgeDetail(big, view.cy ? view.cy.zoom() : 0);
        if (edgeClasses) elements.forEach(function (e) { if (e.group === "edges") e.classes += " " + edgeClasses; });
        var cy = view.cy;
        if (cy) {
          Canvas.patchCanvas(cy, elements);
        } else {
          cy = view.cy = window.cytoscape({ container: container, style: Canvas.STYLE, wheelSensitivity: 0.3,
            textureOnViewport: big, hideEdgesOnViewport: big, pixelRatio: big ? 1 : "auto",
            boxSelectionEnabled: false, minZoom: 0.05, maxZoom: 4 });
          cy.add(elements);
          cy.fit(cy.elements(), 30);
          if (cy.zoom() > 1.2) { cy.zoom(1.2); cy.center(); }
          syncEdgeDetail();
          Canvas.mark("editor-cy-created");
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
          Canvas.mark("editor-rendered");
        });
        cy.resize();
      },

      onTap: function (target) {
        if (view.model.level === "zones") {
          if (target.isNode() && target.id() === "z_none") this.status = "Assets in no zone are listed in the tables below.";
          else if (target.isNode()) this.openZone(target.id().slice(2));
          return;
        }
        var parsed = Canvas.parseNodeId(target.id());
        if (this.connectMode && parsed.kind === "asset") {
          if (view.connectFrom === null) {
            view.connectFrom = parsed.key;
            this.status = "Connect: now choose the target asset.";
            return;
          }
          if (view.connectFrom !== parsed.key) this.addFlow(view.connectFrom, parsed.key);
          view.connectFrom = null;
          this.connectMode = false;
          return;
        }
        this.select(parsed.kind, parsed.key);
      },

      /* A dragged asset keeps its place: a new one with its pending create, a saved one at once. */
      onDragged: function (node) {
        var model = view.model;
        var parsed = Canvas.parseNodeId(node.id());
        var pos = node.position();
        if (typeof parsed.key === "string") {
          model.positions[parsed.key] = [pos.x, pos.y];
          return;
        }
        model.savedPositions[parsed.key] = [pos.x, pos.y];
        if (!model.canEdit) return;
        this.savePosition(parsed.key, pos);
      },

      toggleConnect: function () {
        this.connectMode = !this.connectMode;
        view.connectFrom = null;
        this.status = this.connectMode ? "Connect: choose the source asset, then the target." : "";
      },

      /* Too big to draw per asset: say so, and how to get at the assets (issue 13, point 5). */
      summaryStatus: function () {
        var model = view.model;
        var t = model.totals;
        var where = this.zoneFocus ? "This zone has" : "This system has";
        return where + " more zones, assets and flows than the diagram draws at once (" + model.limit +
          "; the system: " + (t.assets || 0) + " assets, " + (t.flows || 0) + " flows). Choose a zone to open it" +
          (this.zoneFocus ? " (this one is too big too: use the tables below)" : "") + ", or use the tables below.";
      },

      /* Draw one zone only ("" for the whole system); unsaved changes must be saved first. */
      openZone: function (zone) {
        if (view.model.pendingCount()) { this.error = "Save or discard your changes before opening another zone."; return; }
        this.error = "";
        this.zoneFocus = zone ? String(zone) : "";
        this.select("", "");
        this.status = "Loading the diagram…";
        this.reload();
      },
    };
  };
})();
