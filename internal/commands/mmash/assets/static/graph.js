// graph.js runs mmash's /graph/ page: it keeps the values of the rows
// whose "Update" or "Plot" button is pressed up to date, polling mmash's
// own API (/stats/LABEL?exact=1&aggr=A, where A is "policy", each row's
// own policy, or one of the original aggregators), and plots them on a
// <canvas> with a rolling average: counters as rates per second,
// timestamps as dates. No library, no other server.
"use strict";

(function () {
  const settings = { period: 2000, points: 100, average: 10, aggr: "policy" };
  const limits = { period: [50, 60000], points: [10, 1000], average: [1, 1000] };
  const colors = { value: "#2563eb", average: "#ea580c", grid: "#e5e7eb", text: "#6b7280" };
  const live = new Map(); // label -> {row, output, kind, unit, plot, watch, prev}
  let timer = 0;
  let polling = false;

  // Poll every live label, then again after the sample period.
  async function tick() {
    timer = 0;
    if (polling) return;
    polling = true;
    try {
      await Promise.all(Array.from(live.keys(), poll));
    } finally {
      polling = false;
      schedule();
    }
  }

  function schedule() {
    clearTimeout(timer);
    timer = live.size && !polling ? setTimeout(tick, settings.period) : 0;
  }

  async function poll(label) {
    const w = live.get(label);
    const aggr = settings.aggr;
    let value = NaN;
    let error = "";
    try {
      const url = "/stats/" + encodeURIComponent(label) + "?exact=1&aggr=" + encodeURIComponent(aggr);
      // A request that hangs must not stop the updates.
      const res = await fetch(url, { cache: "no-store", signal: AbortSignal.timeout(Math.max(5000, 4 * settings.period)) });
      const body = await res.json();
      if (!res.ok) throw new Error(body.error || res.status + " " + res.statusText);
      if (!(label in body)) throw new Error("no file has it now");
      if (Array.isArray(body[label])) throw new Error("not combined: the files' values are not all numbers");
      value = toNumber(body[label]);
    } catch (e) {
      error = e.message || String(e);
      console.warn("mmash: " + label + ": " + error);
    }
    if (live.get(label) !== w || aggr !== settings.aggr) return; // stopped or changed meanwhile
    w.output.replaceChildren(error ? "error" : format(value, w.kind), unitOf(w));
    w.output.title = error;
    if (w.plot) {
      w.plot.push(plotted(w, value), error);
      w.plot.draw();
    }
  }

  // plotted returns what the plot of w shows of a new value: a counter's
  // rate per second since the last value (none for the first, nor when
  // the sum went down: a process and its file went away), or the value.
  function plotted(w, value) {
    if (w.kind !== "counter") return value;
    const now = performance.now();
    const prev = w.prev;
    w.prev = Number.isFinite(value) ? { value: value, time: now } : null;
    if (!prev || !w.prev || now <= prev.time || value < prev.value) return NaN;
    return (value - prev.value) / ((now - prev.time) / 1000);
  }

  function unitOf(w) {
    if (!w.unit || w.kind === "timestamp") return "";
    const span = document.createElement("span");
    span.className = "unit";
    span.textContent = { seconds: "s", bytes: "B" }[w.unit] || w.unit;
    return span;
  }

  // The API gives numbers, booleans, or "NaN", "+Inf" and "-Inf".
  function toNumber(v) {
    if (v === "+Inf") return Infinity;
    if (v === "-Inf") return -Infinity;
    return Number(v);
  }

  // format formats a value for people: a timestamp (seconds since the
  // epoch) as a local date and time, a number with six significant digits.
  function format(v, kind) {
    if (Number.isNaN(v)) return "NaN";
    if (!Number.isFinite(v)) return v > 0 ? "+Inf" : "-Inf";
    if (kind === "timestamp") return date(v, true);
    if (Number.isInteger(v)) return String(v);
    // Six significant digits, and two decimals for large numbers such as
    // UNIX times.
    const digits = Math.min(17, Math.max(6, Math.ceil(Math.log10(Math.abs(v))) + 2));
    return String(Number(v.toPrecision(digits)));
  }

  // date formats seconds since the epoch as YYYY-MM-DD HH:MM:SS in local
  // time (or only the time of day).
  function date(seconds, day) {
    const d = new Date(seconds * 1000);
    if (Number.isNaN(d.getTime())) return String(seconds);
    const two = (n) => String(n).padStart(2, "0");
    const time = two(d.getHours()) + ":" + two(d.getMinutes()) + ":" + two(d.getSeconds());
    return day ? d.getFullYear() + "-" + two(d.getMonth() + 1) + "-" + two(d.getDate()) + " " + time : time;
  }

  // Plot is the chart of one label, in a table row under the label's row.
  class Plot {
    constructor(label, row, kind) {
      this.kind = kind;
      this.values = [];
      this.error = "";
      this.tr = document.createElement("tr");
      this.tr.className = "plot-row";
      const td = document.createElement("td");
      td.colSpan = row.cells.length;
      this.box = document.createElement("figure");
      this.box.className = "plot";
      this.box.dataset.label = label;
      this.box.dataset.samples = "0";
      this.caption = document.createElement("figcaption");
      this.canvas = document.createElement("canvas");
      this.box.append(this.caption, this.canvas);
      td.append(this.box);
      this.tr.append(td);
      this.tr.hidden = row.hidden;
      row.after(this.tr);
      this.label = label;
      this.draw();
    }

    push(v, error) {
      this.values.push(v);
      this.error = error;
      this.trim();
      this.box.dataset.samples = String(this.values.length);
      if (Number.isFinite(v)) this.box.dataset.latest = String(v);
    }

    trim() {
      if (this.values.length > settings.points) this.values.splice(0, this.values.length - settings.points);
    }

    clear() {
      this.values = [];
      this.box.dataset.samples = "0";
      delete this.box.dataset.latest;
    }

    remove() {
      this.tr.remove();
    }

    // means returns the rolling average of the finite values at each sample.
    means() {
      const n = settings.average;
      const out = [];
      let sum = 0;
      let count = 0;
      this.values.forEach((v, i) => {
        if (Number.isFinite(v)) { sum += v; count++; }
        const old = this.values[i - n];
        if (i >= n && Number.isFinite(old)) { sum -= old; count--; }
        out.push(count ? sum / count : NaN);
      });
      return out;
    }

    draw() {
      const c = this.canvas;
      const dpr = window.devicePixelRatio || 1;
      const width = c.clientWidth || 600;
      const height = c.clientHeight || 240;
      if (c.width !== Math.round(width * dpr) || c.height !== Math.round(height * dpr)) {
        c.width = Math.round(width * dpr);
        c.height = Math.round(height * dpr);
      }
      const g = c.getContext("2d");
      g.setTransform(dpr, 0, 0, dpr, 0, 0);
      g.clearRect(0, 0, width, height);
      const means = this.means();
      const finite = this.values.concat(means).filter(Number.isFinite);
      let lo = finite.length ? Math.min.apply(null, finite) : 0;
      let hi = finite.length ? Math.max.apply(null, finite) : 1;
      // Flat, or flat but for rounding (the rolling sum drifts by an ulp):
      // give the line some room, and ticks a step that lo/step can count.
      if (hi - lo <= Math.abs(hi) * 1e-12) {
        const d = this.kind === "timestamp" ? 60 : Math.abs(lo) * 0.1 || 1;
        lo -= d;
        hi += d;
      }
      const t = ticks(lo, hi, this.kind);
      lo = t.values[0];
      hi = t.values[t.values.length - 1];
      g.font = "12px system-ui, sans-serif";
      const labelWidth = Math.max.apply(null, t.values.map((v) => g.measureText(t.format(v)).width));
      const left = Math.ceil(labelWidth) + 16, right = 16, top = 12, bottom = 26;
      const pw = width - left - right, ph = height - top - bottom;
      const x = (i) => left + i * pw / (settings.points - 1);
      const y = (v) => top + ph - (v - lo) / (hi - lo) * ph;

      g.lineWidth = 1;
      g.strokeStyle = colors.grid;
      g.fillStyle = colors.text;
      g.textAlign = "right";
      g.textBaseline = "middle";
      for (const v of t.values) {
        const yy = Math.round(y(v)) + 0.5;
        g.beginPath();
        g.moveTo(left, yy);
        g.lineTo(left + pw, yy);
        g.stroke();
        g.fillText(t.format(v), left - 8, yy);
      }
      g.textBaseline = "alphabetic";
      g.fillText("now", left + pw, height - 6);
      g.textAlign = "left";
      g.fillText(settings.points + " samples, one every " + settings.period + " ms", left, height - 6);

      line(g, this.values, x, y, colors.value, 2, []);
      line(g, means, x, y, colors.average, 1.5, [6, 4]);
      this.legend(means);
    }

    legend(means) {
      const last = this.values.length ? this.values[this.values.length - 1] : NaN;
      const mean = means.length ? means[means.length - 1] : NaN;
      const aggr = settings.aggr === "policy" ? "" : settings.aggr;
      let name = aggr ? aggr + "(" + this.label + ")" : this.label;
      let show = (v) => format(v, this.kind);
      if (this.kind === "counter") {
        name = "rate per second of " + name;
        show = (v) => format(v) + "/s";
      }
      this.caption.replaceChildren(
        key(colors.value, name, this.values.length ? show(last) : "–"),
        key(colors.average, "rolling average of " + settings.average, means.length ? show(mean) : "–"),
      );
      if (this.error) {
        const e = document.createElement("span");
        e.className = "error";
        e.textContent = this.error;
        this.caption.append(e);
      }
    }
  }

  function key(color, name, value) {
    const span = document.createElement("span");
    span.className = "key";
    const swatch = document.createElement("i");
    swatch.style.background = color;
    const b = document.createElement("b");
    b.textContent = value;
    span.append(swatch, name + " ", b);
    return span;
  }

  // line draws the finite values of vals, with gaps where they are not.
  function line(g, vals, x, y, color, width, dash) {
    g.strokeStyle = color;
    g.lineWidth = width;
    g.setLineDash(dash);
    g.beginPath();
    let pen = false;
    vals.forEach((v, i) => {
      if (!Number.isFinite(v)) { pen = false; return; }
      if (pen) g.lineTo(x(i), y(v)); else g.moveTo(x(i), y(v));
      pen = true;
    });
    g.stroke();
    g.setLineDash([]);
  }

  // ticks returns round axis values that span [lo, hi], and a formatter
  // with as many decimals as their step needs (times of day for
  // timestamps).
  function ticks(lo, hi, kind) {
    const raw = (hi - lo) / 4;
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const r = raw / mag;
    const step = (r <= 1 ? 1 : r <= 2 ? 2 : r <= 5 ? 5 : 10) * mag;
    const first = Math.floor(lo / step), last = Math.ceil(hi / step);
    const values = [];
    for (let k = 0; k <= last - first && k <= 20; k++) values.push((first + k) * step);
    if (values.length < 2) return { values: [lo, hi], format: format };
    const decimals = Math.max(0, -Math.floor(Math.log10(step)));
    const big = Math.max(Math.abs(lo), Math.abs(hi)) >= 1e12;
    if (kind === "timestamp") return { values: values, format: (v) => date(v, false) };
    return {
      values: values,
      format: (v) => big ? v.toExponential(3) : v.toFixed(Math.min(decimals, 12)),
    };
  }

  function press(button, on) {
    button.setAttribute("aria-pressed", String(on));
  }

  function toggle(row, kind) {
    const label = row.dataset.label;
    const w = live.get(label) || {
      row: row, output: row.querySelector("output"), kind: row.dataset.kind, unit: row.dataset.unit,
      plot: null, watch: false, prev: null,
    };
    if (kind === "plot") {
      if (w.plot) {
        w.plot.remove();
        w.plot = null;
      } else {
        w.plot = new Plot(label, row, w.kind);
      }
      press(row.querySelector("button.plot"), !!w.plot);
    } else {
      w.watch = !w.watch;
      press(row.querySelector("button.watch"), w.watch);
    }
    if (w.plot || w.watch) {
      live.set(label, w);
      poll(label);
      if (!timer) schedule();
    } else {
      live.delete(label);
    }
  }

  function bindSetting(id) {
    const input = document.getElementById(id);
    input.value = settings[id];
    input.addEventListener("change", () => {
      const v = Math.round(Number(input.value));
      if (input.value.trim() !== "" && Number.isFinite(v)) {
        settings[id] = Math.min(limits[id][1], Math.max(limits[id][0], v));
      }
      input.value = settings[id];
      if (id === "period") schedule();
      for (const w of live.values()) {
        if (w.plot) {
          w.plot.trim();
          w.plot.draw();
        }
      }
    });
  }

  function init() {
    // The page comes with the values as JSON; show them as the updates will.
    for (const row of document.querySelectorAll("#numbers tr.stat")) {
      const out = row.querySelector("output");
      const w = { kind: row.dataset.kind, unit: row.dataset.unit };
      try {
        out.replaceChildren(format(toNumber(JSON.parse(out.dataset.value)), w.kind), unitOf(w));
        if (w.kind === "timestamp") out.title = out.dataset.value + " s since the epoch";
      } catch (e) {
        // null: a percentile without buckets; leave it.
      }
    }
    // Timestamps that are not combined: dates too.
    for (const dt of document.querySelectorAll('dl.strings dt[data-kind="timestamp"]')) {
      for (let dd = dt.nextElementSibling; dd && dd.tagName === "DD"; dd = dd.nextElementSibling) {
        const v = dd.querySelector(".value");
        const n = Number(v.textContent);
        if (v.textContent !== "" && Number.isFinite(n)) {
          v.title = v.textContent;
          v.textContent = date(n, true);
        }
      }
    }
    ["period", "points", "average"].forEach(bindSetting);
    const aggr = document.getElementById("aggr");
    aggr.value = settings.aggr;
    aggr.addEventListener("change", () => {
      settings.aggr = aggr.value;
      // Say how each row is combined now.
      for (const how of document.querySelectorAll("#numbers td.how")) {
        how.textContent = settings.aggr === "policy" ? how.dataset.how : settings.aggr + " (chosen above)";
      }
      for (const [label, w] of live) {
        if (w.plot) w.plot.clear();
        w.prev = null;
        poll(label);
      }
    });
    document.getElementById("numbers").addEventListener("click", (ev) => {
      const button = ev.target.closest("button");
      if (!button) return;
      toggle(button.closest("tr"), button.classList.contains("plot") ? "plot" : "watch");
    });
    const filter = document.getElementById("filter");
    filter.addEventListener("input", () => {
      const text = filter.value.trim().toLowerCase();
      for (const row of document.querySelectorAll("#numbers tr.stat")) {
        row.hidden = !row.dataset.label.toLowerCase().includes(text);
        const w = live.get(row.dataset.label);
        if (w && w.plot) w.plot.tr.hidden = row.hidden;
      }
    });
    window.addEventListener("resize", () => {
      for (const w of live.values()) if (w.plot) w.plot.draw();
    });
  }

  init();
})();
