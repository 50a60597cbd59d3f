// cartoonbrain playground: the page's side. The network is trained by cartoonbrain on the
// server; this script sends the settings and the buttons, and draws the frames that come
// back as Server-Sent Events (see playground/server.py for the API).
"use strict";

(function () {
  const TOKEN = document.querySelector('meta[name="playground-token"]').content;
  const FEATURES = ["x1", "x2", "x1sq", "x2sq", "x1x2", "sinx1", "sinx2"];
  const LABELS = {
    x1: "x\u2081", x2: "x\u2082", x1sq: "x\u2081\u00b2", x2sq: "x\u2082\u00b2",
    x1x2: "x\u2081x\u2082", sinx1: "sin x\u2081", sinx2: "sin x\u2082",
  };
  const FEATURE_FN = {
    x1: (a, b) => a, x2: (a, b) => b, x1sq: (a, b) => a * a, x2sq: (a, b) => b * b,
    x1x2: (a, b) => a * b, sinx1: (a, b) => Math.sin(a), sinx2: (a, b) => Math.sin(b),
  };
  const DEFAULTS = {
    dataset: "circles", noise: 0, train_share: 0.5, n_points: 500, features: ["x1", "x2"],
    hidden: [4, 2], activation: "tanh", learning_rate: 0.03, optimizer: "sgd",
    batch_size: 10, l2: 0, dropout: 0, seed: 0,
  };
  const HALF = 6; // the square shown is [-6, 6]^2
  const MAX_LAYERS = 6, MAX_UNITS = 8;
  const BLUE = [8, 119, 189], ORANGE = [245, 147, 34], WHITE = [232, 234, 235];

  // what the page counts, for the browser test and for anyone curious
  const stats = { frames: 0, boundaryFrames: 0, firstFrameAt: null, drawn: 0, run: 0, started: performance.now() };
  window.playgroundStats = stats;

  const $ = (id) => document.getElementById(id);
  let settings = readSettings();
  let run = 0, playing = false, latest = null, drawing = false, early = null;
  let points = { train: [], test: [] }, curve = [];

  // ------------------------------------------------------------------ settings and URL
  function readSettings() {
    const q = new URLSearchParams(window.location.search);
    const s = JSON.parse(JSON.stringify(DEFAULTS));
    for (const [key, value] of q) {
      if (!(key in DEFAULTS)) continue;
      if (key === "dataset" || key === "activation" || key === "optimizer") s[key] = value;
      else if (key === "features") s.features = value ? value.split(",") : [];
      else if (key === "hidden") s.hidden = value ? value.split(",").map(Number) : [];
      else s[key] = Number(value);
    }
    return s;
  }

  function writeUrl() {
    const q = new URLSearchParams();
    for (const key of Object.keys(DEFAULTS)) {
      const v = settings[key];
      q.set(key, Array.isArray(v) ? v.join(",") : String(v));
    }
    window.history.replaceState(null, "", "?" + q.toString());
  }

  function showControls() {
    for (const id of ["learning_rate", "activation", "optimizer", "l2", "dropout", "n_points"]) {
      const select = $(id), want = String(settings[id]);
      if (![...select.options].some((o) => o.value === want)) select.add(new Option(want));
      select.value = want;
    }
    $("batch_size").value = settings.batch_size;
    $("batch_size_value").textContent = settings.batch_size;
    $("seed").value = settings.seed;
    $("train_share").value = Math.round(settings.train_share * 100);
    $("train_share_value").textContent = Math.round(settings.train_share * 100);
    $("noise").value = Math.round(settings.noise * 100);
    $("noise_value").textContent = Math.round(settings.noise * 100);
    for (const b of document.querySelectorAll("#datasets button")) {
      b.classList.toggle("selected", b.dataset.dataset === settings.dataset);
      b.setAttribute("aria-pressed", String(b.dataset.dataset === settings.dataset));
    }
    const n = settings.hidden.length;
    $("layer_count").textContent = n + " hidden layer" + (n === 1 ? "" : "s");
  }

  function message(text) {
    const m = $("message");
    m.textContent = text || "";
    m.hidden = !text;
  }

  // ------------------------------------------------------------------ talking to the server
  async function post(path, body) {
    const response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Playground-Token": TOKEN },
      body: JSON.stringify(body),
    });
    const reply = await response.json();
    if (!response.ok) throw new Error(reply.error || response.statusText);
    return reply;
  }

  async function reset(keepPlaying) {
    writeUrl();
    showControls();
    buildDiagram();
    const wasPlaying = keepPlaying && playing;
    try {
      const reply = await post("/api/reset", settings);
      message("");
      run = reply.run;
      points = { train: reply.train, test: reply.test };
      drawPoints();
      curve = [];
      latest = null;
      setPlaying(false);
      $("epoch").textContent = "0";
      if (early && early.run === run) accept(early);
      early = null;
      if (wasPlaying) await control("play");
    } catch (error) {
      message(error.message);
    }
  }

  async function control(action) {
    try {
      await post("/api/control", { action: action });
      setPlaying(action === "play");
      message("");
    } catch (error) {
      message(error.message);
    }
  }

  function setPlaying(value) {
    playing = value;
    const b = $("play");
    b.textContent = value ? "Pause" : "Play";
    b.setAttribute("aria-label", value ? "Pause" : "Play");
    b.classList.toggle("playing", value);
  }

  function listen() {
    const source = new EventSource("/api/stream?token=" + encodeURIComponent(TOKEN));
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) {
        message("This page's training has ended (the server stopped, or too many pages are " +
          "open): reload the page to start again.");
      }
    };
    source.onmessage = (event) => {
      const frame = JSON.parse(event.data);
      if (frame.run > run) early = frame; // before the reply to its reset: kept for it
      if (frame.run !== run) return; // a frame of another training than the page's
      accept(frame);
    };
  }

  function accept(frame) {
    stats.frames += 1;
    stats.run = frame.run;
    if (frame.boundary) stats.boundaryFrames += 1;
    if (stats.firstFrameAt === null) stats.firstFrameAt = performance.now() - stats.started;
    latest = frame;
    if (frame.train_loss !== null) curve.push([frame.epoch, frame.train_loss, frame.test_loss]);
    if (curve.length > 3000) curve = curve.filter((_, i) => i % 2 === 0);
    if (!drawing) {
      drawing = true;
      window.requestAnimationFrame(draw);
    }
  }

  // ------------------------------------------------------------------ colours and maps
  function colour(v) { // v in [-1, 1]: orange, white, blue
    const c = v < 0 ? ORANGE : BLUE, t = Math.min(1, Math.abs(v));
    return [0, 1, 2].map((i) => Math.round(WHITE[i] + (c[i] - WHITE[i]) * t));
  }

  function bytes(text) {
    const raw = window.atob(text), out = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }

  function paint(canvas, values, size, toUnit, strength = 1) {
    if (canvas.width !== size) { canvas.width = size; canvas.height = size; }
    const ctx = canvas.getContext("2d");
    if (!canvas.image) canvas.image = ctx.createImageData(size, size);
    const data = canvas.image.data;
    // bytes (the frames' maps) go through a table of their 256 colours
    const table = values instanceof Uint8Array ? [...Array(256).keys()].map((v) => colour(strength * toUnit(v))) : null;
    for (let i = 0; i < size * size; i++) {
      const [r, g, b] = table ? table[values[i]] : colour(strength * toUnit(values[i]));
      data[4 * i] = r; data[4 * i + 1] = g; data[4 * i + 2] = b; data[4 * i + 3] = 255;
    }
    ctx.putImageData(canvas.image, 0, 0);
  }

  function featureMap(name, size) {
    const values = new Float32Array(size * size), step = (2 * HALF) / size;
    let m = 0;
    for (let r = 0; r < size; r++) {
      for (let c = 0; c < size; c++) {
        const v = FEATURE_FN[name](-HALF + step * (c + 0.5), HALF - step * (r + 0.5));
        values[r * size + c] = v;
        m = Math.max(m, Math.abs(v));
      }
    }
    return values.map((v) => (m ? v / m : 0));
  }

  // ------------------------------------------------------------------ the network drawing
  function column(title) {
    const col = document.createElement("div");
    col.className = "column";
    const head = document.createElement("div");
    head.className = "title";
    head.textContent = title;
    col.appendChild(head);
    return col;
  }

  function unitButtons(col, layer) {
    const box = document.createElement("div");
    box.className = "units";
    for (const [text, change, label] of [["+", 1, "Add a unit to"], ["\u2212", -1, "Remove a unit from"]]) {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = text;
      b.setAttribute("aria-label", label + " layer " + (layer + 1));
      b.addEventListener("click", () => {
        const units = settings.hidden[layer] + change;
        if (units < 1 || units > MAX_UNITS) return;
        settings.hidden[layer] = units;
        reset(true);
      });
      box.appendChild(b);
    }
    col.insertBefore(box, col.firstChild.nextSibling);
  }

  function buildDiagram() {
    centres = null;
    const columns = $("columns");
    columns.textContent = "";
    const inputs = column("Features");
    for (const name of FEATURES) {
      const node = document.createElement("div");
      const on = settings.features.includes(name);
      node.className = "node feature" + (on ? "" : " off");
      const label = document.createElement("label");
      const box = document.createElement("input");
      box.type = "checkbox";
      box.checked = on;
      box.setAttribute("aria-label", "Feature " + LABELS[name]);
      box.addEventListener("change", () => {
        const chosen = FEATURES.filter((f) => (f === name ? box.checked : settings.features.includes(f)));
        if (!chosen.length) { box.checked = true; return; }
        settings.features = chosen;
        reset(true);
      });
      label.append(box, LABELS[name]);
      const canvas = document.createElement("canvas");
      if (on) canvas.dataset.node = "in:" + settings.features.indexOf(name);
      paint(canvas, featureMap(name, 20), 20, (v) => v);
      node.append(label, canvas);
      inputs.appendChild(node);
    }
    columns.appendChild(inputs);
    settings.hidden.forEach((units, l) => {
      const col = column(units + " neuron" + (units === 1 ? "" : "s"));
      unitButtons(col, l);
      for (let j = 0; j < units; j++) {
        const node = document.createElement("div");
        node.className = "node";
        const canvas = document.createElement("canvas");
        canvas.dataset.node = l + ":" + j;
        canvas.setAttribute("aria-label", "layer " + (l + 1) + " unit " + (j + 1));
        node.appendChild(canvas);
        col.appendChild(node);
      }
      columns.appendChild(col);
    });
    const out = column("Output");
    const node = document.createElement("div");
    node.className = "node";
    const canvas = document.createElement("canvas");
    canvas.dataset.node = "out:0";
    node.appendChild(canvas);
    out.appendChild(node);
    columns.appendChild(out);
  }

  // where each node's canvas sits in the diagram, measured once per layout
  let centres = null;
  function measure() {
    const box = $("diagram").getBoundingClientRect();
    centres = { width: box.width, height: box.height, at: {} };
    for (const el of document.querySelectorAll("#columns canvas[data-node]")) {
      const r = el.getBoundingClientRect();
      centres.at[el.dataset.node] = [r.left - box.left + r.width / 2, r.top - box.top + r.height / 2, r.width / 2];
    }
  }

  function drawWires(weights) {
    if (!centres) measure();
    const canvas = $("wires");
    if (canvas.width !== centres.width || canvas.height !== centres.height) {
      canvas.width = centres.width;
      canvas.height = centres.height;
    }
    const ctx = canvas.getContext("2d");
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    let biggest = 0;
    for (const W of weights) for (const row of W) for (const w of row) biggest = Math.max(biggest, Math.abs(w));
    const n = weights.length;
    weights.forEach((W, l) => {
      const from = (j) => (l === 0 ? "in:" + j : l - 1 + ":" + j);
      const to = (i) => (l === n - 1 ? "out:" + i : l + ":" + i);
      W.forEach((row, i) => {
        const b = centres.at[to(i)];
        row.forEach((w, j) => {
          const a = centres.at[from(j)];
          if (!a || !b) return;
          const [r, g, bl] = w < 0 ? ORANGE : BLUE;
          ctx.strokeStyle = "rgba(" + r + "," + g + "," + bl + ",0.85)";
          ctx.lineWidth = 0.5 + 5 * Math.abs(w) / (biggest || 1);
          ctx.beginPath();
          ctx.moveTo(a[0] + a[2], a[1]);
          ctx.bezierCurveTo((a[0] + b[0]) / 2, a[1], (a[0] + b[0]) / 2, b[1], b[0] - b[2], b[1]);
          ctx.stroke();
        });
      });
    });
  }

  // ------------------------------------------------------------------ one frame
  const small = document.createElement("canvas"); // the 100x100 map, scaled up
  function drawBoundary(frame) {
    const size = 100, values = bytes(frame.boundary);
    paint(small, values, size, (v) => (2 * v) / 255 - 1, 0.6);
    const out = document.querySelector('canvas[data-node="out:0"]');
    if (out) {
      const corner = new Uint8Array(400);
      for (let r = 0; r < 20; r++) for (let c = 0; c < 20; c++) corner[20 * r + c] = values[500 * r + 5 * c];
      paint(out, corner, 20, (v) => (2 * v) / 255 - 1);
    }
    const canvas = $("boundary"), ctx = canvas.getContext("2d");
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(small, 0, 0, canvas.width, canvas.height);
  }

  function drawPoints() { // on their own canvas over the map: drawn when they change
    const canvas = $("points"), ctx = canvas.getContext("2d");
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    const sets = $("show_test").checked ? [["train", "#fff"], ["test", "#000"]] : [["train", "#fff"]];
    for (const [which, edge] of sets) {
      for (const [x1, x2, t] of points[which]) {
        const px = ((x1 + HALF) / (2 * HALF)) * canvas.width;
        const py = ((HALF - x2) / (2 * HALF)) * canvas.height;
        const [r, g, b] = t > 0.5 ? BLUE : ORANGE;
        ctx.fillStyle = "rgb(" + r + "," + g + "," + b + ")";
        ctx.strokeStyle = edge;
        ctx.beginPath();
        ctx.arc(px, py, 3, 0, 2 * Math.PI);
        ctx.fill();
        ctx.stroke();
      }
    }
  }

  function drawCurves() {
    const canvas = $("curves"), ctx = canvas.getContext("2d");
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    if (curve.length < 2) return;
    let top = 0;
    for (const [, a, b] of curve) top = Math.max(top, a, b === null ? 0 : b);
    const last = curve[curve.length - 1][0] || 1;
    for (const [index, style] of [[1, "#999"], [2, "#000"]]) {
      ctx.strokeStyle = style;
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      curve.forEach((p, i) => {
        if (p[index] === null) return;
        const x = (p[0] / last) * (canvas.width - 2) + 1;
        const y = canvas.height - 2 - (p[index] / (top || 1)) * (canvas.height - 4);
        if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
      });
      ctx.stroke();
    }
  }

  let shownFindings = "";
  function drawFindings(findings, error) {
    const key = JSON.stringify([findings, error]);
    if (key === shownFindings) return;
    shownFindings = key;
    const list = $("findings");
    list.textContent = "";
    if (error) {
      const li = document.createElement("li");
      li.textContent = error;
      list.appendChild(li);
    }
    for (const f of findings) {
      const li = document.createElement("li");
      const kind = document.createElement("span");
      kind.className = "kind";
      kind.textContent = "[" + f.kind + "] ";
      const fix = document.createElement("div");
      fix.className = "fix";
      fix.textContent = "fix: " + f.suggestion;
      li.append(kind, (f.layer ? f.layer + ": " : "") + f.message, fix);
      list.appendChild(li);
    }
    if (!findings.length && !error) {
      const li = document.createElement("li");
      li.className = "none";
      li.textContent = "no problems found yet";
      list.appendChild(li);
    }
  }

  function draw() {
    drawing = false;
    const frame = latest;
    if (!frame) return;
    stats.drawn += 1;
    drawBoundary(frame);
    const nodes = document.querySelectorAll("#columns canvas[data-node]"), byKey = {};
    for (const el of nodes) byKey[el.dataset.node] = el;
    frame.units.forEach((layer, l) => layer.forEach((text, j) => {
      const canvas = byKey[l + ":" + j];
      if (canvas) paint(canvas, bytes(text), 20, (v) => (v - 128) / 127);
    }));
    drawWires(frame.weights);
    drawCurves();
    drawFindings(frame.findings, frame.error);
    $("epoch").textContent = String(frame.epoch);
    $("train_loss").textContent = frame.train_loss === null ? "-" : frame.train_loss.toFixed(3);
    $("test_loss").textContent = frame.test_loss === null ? "-" : frame.test_loss.toFixed(3);
    if (frame.playing !== playing) setPlaying(frame.playing);
  }

  // ------------------------------------------------------------------ the controls
  function wire() {
    $("play").addEventListener("click", () => control(playing ? "pause" : "play"));
    $("step").addEventListener("click", () => control("step"));
    $("reset").addEventListener("click", () => reset(false));
    for (const id of ["learning_rate", "l2", "dropout"]) {
      $(id).addEventListener("change", () => { settings[id] = Number($(id).value); reset(true); });
    }
    for (const id of ["activation", "optimizer"]) {
      $(id).addEventListener("change", () => { settings[id] = $(id).value; reset(true); });
    }
    $("n_points").addEventListener("change", () => {
      settings.n_points = Number($("n_points").value);
      settings.batch_size = Math.min(settings.batch_size, settings.n_points);
      reset(true);
    });
    $("batch_size").addEventListener("input", () => { $("batch_size_value").textContent = $("batch_size").value; });
    $("batch_size").addEventListener("change", () => { settings.batch_size = Number($("batch_size").value); reset(true); });
    $("train_share").addEventListener("change", () => { settings.train_share = Number($("train_share").value) / 100; reset(true); });
    $("noise").addEventListener("change", () => { settings.noise = Number($("noise").value) / 100; reset(true); });
    $("seed").addEventListener("change", () => { settings.seed = Number($("seed").value); reset(true); });
    $("new_seed").addEventListener("click", () => { settings.seed = Math.floor(Math.random() * 1e6); reset(true); });
    $("show_test").addEventListener("change", drawPoints);
    for (const b of document.querySelectorAll("#datasets button")) {
      b.addEventListener("click", () => { settings.dataset = b.dataset.dataset; reset(true); });
    }
    $("add_layer").addEventListener("click", () => {
      if (settings.hidden.length >= MAX_LAYERS) return;
      settings.hidden.push(2);
      reset(true);
    });
    $("remove_layer").addEventListener("click", () => {
      if (!settings.hidden.length) return;
      settings.hidden.pop();
      reset(true);
    });
    const token = "?token=" + encodeURIComponent(TOKEN);
    $("export_model").href = "/api/export/model" + token;
    $("export_script").href = "/api/export/script" + token;
    window.addEventListener("resize", () => { centres = null; if (latest) drawWires(latest.weights); });
  }

  wire();
  listen();
  reset(false);
})();
