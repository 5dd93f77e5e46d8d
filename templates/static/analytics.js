// Draws the analytics page's charts with Chart.js (vendored under /static/vendor/chartjs).
// The page is complete without this: every chart's figures are in the table after it.
// Series differ by point shape and dash, not by colour alone.
(function () {
  "use strict";
  var source = document.getElementById("analytics-data");
  if (!source || typeof Chart === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var colours = ["#1d4f91", "#b35900", "#2e7d32", "#6a1b9a", "#8d1c1c"];
  var shapes = ["circle", "rect", "triangle", "rectRot", "star"];
  var dashes = [[], [6, 4], [2, 3], [10, 3, 2, 3], [1, 1]];
  Chart.defaults.animation = false;

  function draw(id, config) {
    var canvas = document.getElementById(id);
    if (canvas) { new Chart(canvas, config); }
  }

  draw("chart-days", {
    data: {
      labels: data.days,
      datasets: [
        { type: "bar", label: "Posts (bars, left axis)", data: data.posts, yAxisID: "posts",
          backgroundColor: colours[1] },
        { type: "line", label: "Impressions (line with dots, right axis)", data: data.impressions,
          yAxisID: "impressions", borderColor: colours[0], backgroundColor: colours[0],
          pointStyle: "circle", pointRadius: 4 }
      ]
    },
    options: { scales: { posts: { position: "left", beginAtZero: true },
                         impressions: { position: "right", beginAtZero: true } } }
  });

  draw("chart-followers", {
    type: "line",
    data: {
      datasets: data.followers.map(function (series, i) {
        return { label: series.label, data: series.points,
                 borderColor: colours[i % 5], backgroundColor: colours[i % 5],
                 pointStyle: shapes[i % 5], pointRadius: 5, borderDash: dashes[i % 5] };
      })
    },
    options: { parsing: { xAxisKey: "x", yAxisKey: "y" }, scales: { x: { type: "category",
      labels: Array.from(new Set([].concat.apply([], data.followers.map(function (s) {
        return s.points.map(function (p) { return p.x; }); })))).sort() } } }
  });

  draw("chart-campaigns", {
    type: "bar",
    data: { labels: data.campaigns,
            datasets: [{ label: "Impressions", data: data.campaign_impressions,
                         backgroundColor: colours[0] }] },
    options: { indexAxis: "y" }
  });

  draw("chart-spend", {
    data: {
      labels: data.months,
      datasets: [
        { type: "bar", label: "Spent, $ (bars)", data: data.spent, backgroundColor: colours[0] },
        { type: "line", label: "Budget, $ (dashed line)", data: data.budget, borderColor: colours[4],
          backgroundColor: colours[4], borderDash: [6, 4], pointStyle: "rectRot", pointRadius: 6,
          spanGaps: true }
      ]
    },
    options: { scales: { y: { beginAtZero: true } } }
  });
}());
