/*
 * The editor's save part of the "editor" component (editor.js): the batch save and its conflicts.
 *
 * Pending operations go in one batch with If-Match on the system version. A 412 opens the
 * conflict dialog: reload (drop mine) or keep mine and retry on the newer version, which
 * re-applies the same operations rather than overwriting someone else's fields. Dragged
 * positions go through the layout endpoint, which neither bumps the version nor writes audit
 * events, so a drag never causes a conflict.
 */
(function () {
  "use strict";

  var parts = window.WorkbenchEditorParts = window.WorkbenchEditorParts || {};

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function describeErrors(body) {
    if (!body) return "The change could not be saved.";
    var lines = [body.detail || "The change could not be saved."];
    if (body.errors) {
      Object.keys(body.errors).forEach(function (field) {
        var messages = body.errors[field];
        lines.push(field + ": " + (Array.isArray(messages) ? messages.join(" ") : JSON.stringify(messages)));
      });
    }
    return lines.join(" ");
  }

  parts.save = function (view) {
    return {
      cannotSave: function () { return this.saving || this.pendingCount === 0 || !this.canEdit; },
      nothingPending: function () { return this.pendingCount === 0; },

      /* A saved asset's new place, at once (the layout endpoint: no version, no audit event). */
      savePosition: function (key, pos) {
        var self = this;
        fetch(this.urls.layout, { method: "PUT", credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(), Accept: "application/json" },
          body: JSON.stringify({ positions: [{ asset: String(key), x: pos.x, y: pos.y }] }) })
          .then(function (r) { if (!r.ok) self.error = "The new position could not be saved."; });
      },

      save: function () {
        var model = view.model;
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
        view.model.clearPending();
        this.conflict = false;
        this.reload();
      },

      /* Conflict: load the newer version, re-apply my pending operations onto it, save again. */
      retryMine: function () {
        var self = this;
        var model = view.model;
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
    };
  };
})();
