/* memscript report: draws the page's line charts from the data in #report-data with uPlot (inlined above). */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var charts = [];

  function widthOf(el) {
    return Math.max(280, Math.floor(el.getBoundingClientRect().width));
  }

  function count(v) {
    return v == null ? "-" : Number(v).toLocaleString("en-US");
  }

  // A log axis from 1 to the power of ten above the largest value: counts of 1 and of a million on one chart.
  function logRange(u, min, max) {
    return [1, Math.pow(10, Math.max(1, Math.ceil(Math.log10(Math.max(2, max || 1) * 1.05))))];
  }

  // The run's marks as dashed vertical lines with their labels, staggered so that close ones stay legible.
  function marksPlugin(marks) {
    return {
      hooks: {
        draw: [function (u) {
          if (!marks.length) return;
          var ctx = u.ctx, px = window.devicePixelRatio || 1;
          var top = u.bbox.top, bottom = u.bbox.top + u.bbox.height, left = u.bbox.left, right = u.bbox.left + u.bbox.width;
          ctx.save();
          ctx.strokeStyle = "#475569";
          ctx.fillStyle = "#1e293b";
          ctx.lineWidth = px;
          ctx.setLineDash([4 * px, 3 * px]);
          ctx.font = (11 * px) + "px system-ui, sans-serif";
          // uPlot leaves the context as its last axis labels set it (right-aligned): the labels start at tx.
          ctx.textAlign = "left";
          ctx.textBaseline = "alphabetic";
          marks.forEach(function (m, i) {
            var x = Math.round(u.valToPos(m.at, "x", true));
            if (x < left - 1 || x > right + 1) return;
            ctx.beginPath();
            ctx.moveTo(x, top);
            ctx.lineTo(x, bottom);
            ctx.stroke();
            var width = ctx.measureText(m.label).width;
            var tx = x + 3 * px + width > right ? x - 3 * px - width : x + 3 * px;
            ctx.fillText(m.label, tx, top + (12 + (i % 3) * 13) * px);
          });
          ctx.restore();
        }]
      }
    };
  }

  function timeline(t) {
    var el = document.getElementById(t.id);
    if (!el || !t.series.length) return;
    // One point per bucket at its first access, and one after the last so that the last step has a width.
    var xs = [];
    for (var i = 0; i <= t.buckets; i++) xs.push(i * t.width + 1);
    var columns = [xs];
    var series = [{ label: "from access", value: function (u, v) { return count(v); } }];
    t.series.forEach(function (s) {
      var ys = s.counts.map(function (c) { return c > 0 ? c : null; });
      ys.push(ys[ys.length - 1]);
      columns.push(ys);
      series.push({
        label: s.name, stroke: s.color, width: 2, dash: s.dash, spanGaps: false,
        paths: uPlot.paths.stepped({ align: 1 }), points: { show: t.buckets <= 32, size: 6 },
        value: function (u, v) { return count(v); }
      });
    });
    var per = t.width === 1 ? "per access" : "per " + count(t.width) + " accesses";
    var opts = {
      width: widthOf(el), height: 230, series: series,
      scales: { x: { time: false, range: [1, t.buckets * t.width + 1] }, y: { distr: 3, log: 10, range: logRange } },
      axes: [
        { label: "accesses", size: 44, values: function (u, vals) { return vals.map(count); } },
        { label: "events " + per, size: 64, values: function (u, vals) { return vals.map(count); } }
      ],
      plugins: [marksPlugin(t.marks.map(function (m) { return { label: m.label, at: m.access + 0.5 }; }))]
    };
    charts.push({ el: el, plot: new uPlot(opts, columns, el) });
  }

  function segmentsChart(s) {
    var el = document.getElementById(s.id);
    if (!el) return;
    var xs = s.labels.map(function (_, i) { return i; });
    var columns = [xs];
    var series = [{ label: "segment", value: function (u, v) { return v == null ? "-" : s.labels[v]; } }];
    s.series.forEach(function (m) {
      columns.push(m.values);
      series.push({
        label: m.name, stroke: m.color, width: 2, dash: m.dash, spanGaps: false, points: { show: true, size: 7 },
        value: function (u, v) { return v == null ? "-" : v.toFixed(2); }
      });
    });
    var opts = {
      width: widthOf(el), height: 230, series: series,
      scales: { x: { time: false, range: [-0.25, xs.length - 0.75] }, y: { distr: 3, log: 10, range: logRange } },
      axes: [
        { label: "segment", size: 44, splits: function () { return xs; }, values: function (u, vals) { return vals.map(function (v) { return s.labels[v] || ""; }); } },
        { label: "cycles per access", size: 64 }
      ]
    };
    charts.push({ el: el, plot: new uPlot(opts, columns, el) });
  }

  data.timelines.forEach(timeline);
  if (data.segments) segmentsChart(data.segments);

  window.addEventListener("resize", function () {
    charts.forEach(function (c) { c.plot.setSize({ width: widthOf(c.el), height: c.plot.height }); });
  });
})();
