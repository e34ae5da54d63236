// Draw the dashboard's charts with Chart.js from the JSON block named by each
// <figure data-chart="...">. The figure's data table stays on the page, so without
// this script (or without Chart.js) the numbers are still there.
// After a chart is drawn its figure gets data-chart-drawn="true".
(function () {
  "use strict";

  if (!window.Chart) {
    return;
  }

  function destroyCharts(root) {
    root.querySelectorAll("figure[data-chart] canvas").forEach(function (canvas) {
      var existing = window.Chart.getChart(canvas);
      if (existing) {
        existing.destroy();
      }
    });
  }

  function drawChart(figure) {
    var source = document.getElementById(figure.getAttribute("data-chart"));
    var canvas = figure.querySelector("canvas");
    if (!source || !canvas) {
      return;
    }
    var existing = window.Chart.getChart(canvas);
    if (existing) {
      existing.destroy();
    }
    var config = JSON.parse(source.textContent);
    config.options = Object.assign({}, config.options, {
      responsive: true,
      maintainAspectRatio: false,
      // A redraw every poll would otherwise animate the bars again each time.
      animation: false,
    });
    new window.Chart(canvas, config);
    figure.setAttribute("data-chart-drawn", "true");
  }

  function drawCharts(root) {
    var scope = root && root.querySelectorAll ? root : document;
    if (scope.matches && scope.matches("figure[data-chart]")) {
      drawChart(scope);
    }
    scope.querySelectorAll("figure[data-chart]").forEach(drawChart);
  }

  // htmx replaces the live fragment with outerHTML: free the old charts first, then
  // draw the ones in the new content once it is in the page.
  document.addEventListener("htmx:beforeSwap", function (event) {
    // An error response is not swapped in, so the charts on the page stay.
    if (event.detail.shouldSwap) {
      destroyCharts(event.detail.target);
    }
  });
  document.addEventListener("htmx:load", function (event) {
    drawCharts(event.detail.elt);
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      drawCharts(document);
    });
  } else {
    drawCharts(document);
  }
})();
