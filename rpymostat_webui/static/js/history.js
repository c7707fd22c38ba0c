/* The history chart: draws /history/data (already in the browser's unit) with the vendored uPlot.
   The page works without it: the table above says the same in numbers.  Temperatures are lines
   (the zone's effective temperature first), the targets stepped lines, and the heating, cooling
   and fan runs shaded bands behind them.  Times are shown in the engine's (the house's) time zone. */
(function () {
  "use strict";

  var box = document.getElementById("history-chart");
  var status = document.getElementById("history-chart-status");
  if (!box || !box.dataset || !box.dataset.src) { return; }

  var LINE_COLOURS = ["#1b1f24", "#6a3d9a", "#1e6b32", "#8c510a", "#01665e", "#762a83"];
  var TARGET_COLOURS = { heat: "#b3261e", cool: "#0b5cad" };
  var BAND_COLOURS = { heat: "rgba(179, 38, 30, 0.15)", cool: "rgba(11, 92, 173, 0.15)", fan: "rgba(85, 93, 102, 0.15)" };

  var DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

  function two(n) { return (n < 10 ? "0" : "") + n; }

  /* A Date whose getHours() etc. are the house's wall time (the engine's zone), as the rest of the UI shows. */
  function house(ts, zone) {
    var date = new Date(ts * 1e3);
    return zone && uPlot.tzDate ? uPlot.tzDate(date, zone) : date;
  }

  /* x axis labels: "14:30" (a day starts with "Tue 1"), "1 Dec" for steps of days, 24-hour clock. */
  function timeLabels(zone) {
    return function (u, splits, axisIdx, space, incr) {
      return splits.map(function (ts) {
        if (ts == null) { return ""; }
        var d = house(ts, zone);
        var day = d.getDate() + " " + MONTHS[d.getMonth()];
        if (incr >= 86400) { return d.getMonth() === 0 && d.getDate() === 1 ? day + "\n" + d.getFullYear() : day; }
        var clock = two(d.getHours()) + ":" + two(d.getMinutes());
        return d.getHours() === 0 && d.getMinutes() === 0 ? clock + "\n" + DAYS[d.getDay()] + " " + day : clock;
      });
    };
  }

  function timeValue(zone) {
    return function (u, ts) {
      if (ts == null) { return "–"; }
      var d = house(ts, zone);
      return DAYS[d.getDay()] + " " + d.getDate() + " " + MONTHS[d.getMonth()] + " " + two(d.getHours()) + ":" + two(d.getMinutes());
    };
  }

  function say(text) {
    if (status) { status.textContent = text; }
  }

  function formatter(unit) {
    return function (u, value) {
      return value == null ? "–" : value.toFixed(unit.decimals) + "\u202f" + unit.symbol;
    };
  }

  function drawBands(runs) {
    return function (u) {
      var ctx = u.ctx;
      var top = u.bbox.top;
      var height = u.bbox.height;
      var left = u.bbox.left;
      var right = u.bbox.left + u.bbox.width;
      var now = Date.now() / 1000;
      ctx.save();
      runs.forEach(function (band) {
        var end = band.end == null ? Math.min(now, u.scales.x.max) : band.end;
        var x0 = Math.max(left, u.valToPos(band.start, "x", true));
        var x1 = Math.min(right, u.valToPos(end, "x", true));
        if (!(x1 > x0)) { x1 = Math.min(right, x0 + 1); }
        ctx.fillStyle = BAND_COLOURS[band.output] || BAND_COLOURS.fan;
        ctx.fillRect(x0, top, x1 - x0, height);
      });
      ctx.restore();
    };
  }

  function size() {
    var width = Math.max(240, box.clientWidth || 320);
    return { width: width, height: Math.round(Math.max(220, Math.min(420, width * 0.55))) };
  }

  function draw(data) {
    if (typeof uPlot === "undefined") { say("The chart could not load; the table shows the numbers."); return; }
    if (data.empty) { say("No readings in this period."); return; }
    var unit = data.unit;
    var value = formatter(unit);
    var stepped = uPlot.paths && uPlot.paths.stepped ? uPlot.paths.stepped({ align: 1 }) : undefined;
    var series = [{ label: "Time", value: timeValue(data.timezone) }];
    var columns = [data.x];
    (data.series || []).forEach(function (one, index) {
      var values = one.values || [];
      /* a reading with gaps either side would draw no line: show the points then */
      var isolated = values.some(function (v, i) { return v != null && values[i - 1] == null && values[i + 1] == null; });
      series.push({
        points: isolated ? { show: true, size: 6 } : undefined,
        label: one.label,
        stroke: LINE_COLOURS[index % LINE_COLOURS.length],
        width: one.kind === "zone" ? 2.5 : 1.5,
        dash: one.kind === "zone" ? undefined : [6, 3],
        spanGaps: false,
        value: value
      });
      columns.push(one.values);
    });
    (data.targets || []).forEach(function (target) {
      series.push({
        label: target.label,
        stroke: TARGET_COLOURS[target.kind] || "#555d66",
        width: 2,
        paths: stepped,
        value: value
      });
      columns.push(target.values);
    });
    var options = {
      width: size().width,
      height: size().height,
      padding: [12, 44, 0, 0], /* room for the last time label */
      tzDate: function (ts) { return house(ts, data.timezone); },
      scales: {
        x: { time: true, range: function () { return [data.start, data.end]; } }
      },
      axes: [
        { values: timeLabels(data.timezone) },
        {
          label: unit.symbol,
          incrs: unit.step >= 1 ? [1, 2, 5, 10, 20, 50] : [0.5, 1, 2, 5, 10, 20, 50],
          values: function (u, splits, axisIdx, space, incr) {
            var decimals = incr < 1 ? 1 : 0;
            return splits.map(function (v) { return v == null ? "" : v.toFixed(decimals); });
          }
        }
      ],
      series: series,
      hooks: { drawClear: [drawBands(data.runs || [])] }
    };
    box.textContent = "";
    var plot = new uPlot(options, columns, box);
    say("");
    var pending = false;
    window.addEventListener("resize", function () {
      if (pending) { return; }
      pending = true;
      window.requestAnimationFrame(function () {
        pending = false;
        plot.setSize(size());
      });
    });
  }

  say("Loading the chart…");
  fetch(box.dataset.src, { credentials: "same-origin", headers: { Accept: "application/json", "X-Fragment": "history" } })
    .then(function (response) {
      if (response.status === 401) { throw new Error("you have been logged out; reload the page to log in again"); }
      return response.json().then(function (body) {
        if (!response.ok) { throw new Error(body && body.error ? body.error : "the web UI answered " + response.status); }
        return body;
      });
    })
    .then(draw)
    .catch(function (error) { say("The chart could not be drawn: " + error.message); });
})();
