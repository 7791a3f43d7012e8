/*
 * Working together: every few seconds the system page asks for the system's version
 * (GET /api/v1/systems/<slug>/version/) and, when it moved because of someone else, shows
 * "changed by <who> — reload". The editor announces its own saves ("workbench:saved"), so a
 * user's own change never raises the banner. Whenever the version or the results moved, the
 * htmx panels (risk, diagrams, activity) are refreshed in place.
 */
(function () {
  "use strict";

  // Panel id -> the data attribute of the watcher element holding its partial's URL.
  var PANELS = { "risk-panel": "riskUrl", "diagrams-panel": "diagramsUrl", "activity": "activityUrl" };
  var panelUrls = {};

  function refreshPanels() {
    if (!window.htmx) return;
    Object.keys(PANELS).forEach(function (id) {
      if (document.getElementById(id) && panelUrls[id]) {
        window.htmx.ajax("GET", panelUrls[id], { target: "#" + id, swap: "outerHTML" });
      }
    });
  }

  function versionWatch() {
    var timer = null;
    var ownVersions = {};

    return {
      known: 0,
      riskVersion: -1,
      changed: false,
      changedBy: "",
      hasEditor: false,

      init: function () {
        var self = this;
        this.url = this.$el.dataset.versionUrl;
        this.known = parseInt(this.$el.dataset.version, 10) || 0;
        this.interval = (parseFloat(this.$el.dataset.intervalSeconds) || 3) * 1000;
        this.hasEditor = !!document.getElementById("editor");
        var dataset = this.$el.dataset;
        Object.keys(PANELS).forEach(function (id) { panelUrls[id] = dataset[PANELS[id]]; });
        window.addEventListener("workbench:saved", function (event) {
          ownVersions[event.detail.version] = true;
          self.known = event.detail.version;
          self.changed = false;
          refreshPanels();
        });
        timer = window.setInterval(function () { self.poll(); }, this.interval);
        document.addEventListener("visibilitychange", function () { if (!document.hidden) self.poll(); });
      },

      destroy: function () { if (timer) window.clearInterval(timer); },

      poll: function () {
        if (document.hidden) return;
        var self = this;
        fetch(this.url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : null; })
          .then(function (data) {
            if (!data) return;
            var versionMoved = data.version !== self.known;
            var riskMoved = self.riskVersion !== -1 && data.risk_version !== self.riskVersion;
            if (versionMoved && !ownVersions[data.version]) {
              var who = data.last_change && data.last_change.actor_name ? data.last_change.actor_name : "someone else";
              self.changedBy = who;
              self.changed = true;
            }
            if (versionMoved) self.known = data.version;
            if (versionMoved || riskMoved) refreshPanels();
            self.riskVersion = data.risk_version;
            window.dispatchEvent(new CustomEvent("workbench:version", {
              detail: { version: data.version, riskChanged: riskMoved, riskVersion: data.risk_version,
                external: self.changed } }));
          })
          .catch(function () { /* offline for a moment: the next poll tries again */ });
      },

      reload: function () {
        this.changed = false;
        if (this.hasEditor) {
          window.dispatchEvent(new CustomEvent("workbench:reload"));
          refreshPanels();
        } else {
          window.location.reload();
        }
      },

      dismiss: function () { this.changed = false; },
    };
  }

  document.addEventListener("alpine:init", function () {
    window.Alpine.data("versionWatch", versionWatch);
  });
})();
