// The /qtok/ page: one-click encode/decode, step-by-step encode, step-by-step decode.
// Every request goes to the server's qtok API with the page's XSRF token; nothing is built.
(() => {
  "use strict";

  const meta = (name) => document.querySelector(`meta[name="${name}"]`).content;
  const base = meta("qtok-base-url");
  const xsrf = meta("qtok-xsrf");
  const api = (path) => `${base}qtok/api/${path}`;
  const $ = (id) => document.getElementById(id);

  // ------------------------------------------------------------------ log and status
  function log(text) {
    const item = document.createElement("li");
    item.textContent = `[${new Date().toLocaleTimeString()}] ${text}`;
    $("log").prepend(item);
  }

  const gpu = (resp) => {
    const mb = resp.headers.get("X-Qtok-Gpu-Memory-Mb");
    return mb === null ? "n/a" : `${Math.round(Number(mb))} MB`;
  };

  async function refreshStatus(load = false) {
    const el = $("status");
    try {
      const resp = await fetch(api("health") + (load ? "?load=1" : ""), { credentials: "same-origin" });
      const body = await resp.json();
      if (!resp.ok) throw new Error(body.message || resp.statusText);
      const mem = body.gpu_memory_mb === null ? "" : `, GPU mem ${Math.round(body.gpu_memory_mb)} MB`;
      if (body.loaded) {
        el.className = "status ready";
        el.textContent = `codec ready: ${body.codec} on ${body.device}${mem}`;
      } else {
        el.className = "status idle";
        el.textContent = `codec ${body.codec} loads on first use`;
      }
      $("load").hidden = body.loaded;
      return body;
    } catch (err) {
      el.className = "status bad";
      el.textContent = `codec unavailable: ${err.message}`;
      return null;
    }
  }

  // ------------------------------------------------------------------ requests
  async function post(path, body) {
    const resp = await fetch(api(path), {
      method: "POST",
      body,
      credentials: "same-origin",
      headers: { "X-XSRFToken": xsrf, "Content-Type": "application/octet-stream" },
    });
    if (!resp.ok) {
      let message = `${resp.status} ${resp.statusText}`;
      try {
        message = (await resp.json()).message || message;
      } catch (_) {
        /* not JSON: keep the status line */
      }
      throw new Error(message);
    }
    return resp;
  }

  // Run one mode's action with its button disabled, its bar showing and errors shown in place;
  // a fresh run hides the previous result so that an error is never read next to stale numbers.
  async function busy(mode, action, { fresh = true } = {}) {
    const button = $(`${mode}-run`);
    const bar = $(`${mode}-busy`);
    const error = $(`${mode}-error`);
    error.hidden = true;
    if (fresh) $(`${mode}-result`).hidden = true;
    button.disabled = true;
    bar.hidden = false;
    try {
      await action();
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
      log(`${mode} failed: ${err.message}`);
    } finally {
      button.disabled = false;
      bar.hidden = true;
      refreshStatus();
    }
  }

  function chosenFile(mode, what) {
    const file = $(`${mode}-file`).files[0];
    if (!file) throw new Error(`choose ${what} first`);
    return file;
  }

  function info(id, rows) {
    const dl = $(id);
    dl.replaceChildren();
    for (const [key, value] of rows) {
      const dt = document.createElement("dt");
      const dd = document.createElement("dd");
      dt.textContent = key;
      dd.textContent = value;
      dl.append(dt, dd);
    }
  }

  const seconds = (s) => `${Number(s).toFixed(2)} s`;
  const db = (v) => (v === null || v === undefined ? "n/a" : `${Number(v).toFixed(1)} dB`);

  function download(blob, name) {
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = name;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 60000);
  }

  function setAudio(el, blob) {
    if (el.src && el.src.startsWith("blob:")) URL.revokeObjectURL(el.src);
    el.src = URL.createObjectURL(blob);
  }

  // ------------------------------------------------------------------ waveforms
  function drawWave(canvas, traces) {
    const ctx = canvas.getContext("2d");
    const { width, height } = canvas;
    ctx.clearRect(0, 0, width, height);
    ctx.strokeStyle = "#d1d9e0";
    ctx.beginPath();
    ctx.moveTo(0, height / 2);
    ctx.lineTo(width, height / 2);
    ctx.stroke();
    for (const { mins, maxs, color } of traces) {
      ctx.fillStyle = color;
      ctx.globalAlpha = traces.length > 1 ? 0.55 : 0.9;
      const n = mins.length;
      for (let i = 0; i < n; i++) {
        const x = (i / n) * width;
        const top = (1 - maxs[i]) * (height / 2);
        const bottom = (1 - mins[i]) * (height / 2);
        ctx.fillRect(x, top, Math.max(1, width / n), Math.max(1, bottom - top));
      }
    }
    ctx.globalAlpha = 1;
  }

  const b64ToBlob = (b64, type) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    return new Blob([bytes], { type });
  };

  // ------------------------------------------------------------------ modes
  async function roundtrip() {
    const file = chosenFile("roundtrip", "an audio file");
    const t0 = performance.now();
    const resp = await post("roundtrip", file);
    const out = await resp.json();
    const total = (performance.now() - t0) / 1000;
    setAudio($("roundtrip-original"), file);
    setAudio($("roundtrip-reconstructed"), b64ToBlob(out.wav_base64, "audio/wav"));
    const m = out.metrics || {};
    info("roundtrip-info", [
      ["Codes shape", `[${out.shape.join(", ")}]`],
      ["Original duration", seconds(out.duration_s)],
      ["Reconstructed duration", `${seconds(out.reconstructed_duration_s)} at ${out.sample_rate} Hz`],
      ["Reconstruction SNR", db(m.snr_db)],
      ["Log-spectral distance", db(m.lsd_db)],
      ["Mel-cepstral distortion", db(m.mcd_db)],
      ["Encode / decode", `${seconds(out.encode_s)} / ${seconds(out.decode_s)}`],
      ["Device", out.device],
    ]);
    const [omin, omax] = out.waveform.original;
    const [rmin, rmax] = out.waveform.reconstructed;
    drawWave($("wave-original"), [{ mins: omin, maxs: omax, color: "#1f77b4" }]);
    drawWave($("wave-reconstructed"), [{ mins: rmin, maxs: rmax, color: "#ff7f0e" }]);
    drawWave($("wave-overlay"), [
      { mins: omin, maxs: omax, color: "#1f77b4" },
      { mins: rmin, maxs: rmax, color: "#ff7f0e" },
    ]);
    $("roundtrip-result").hidden = false;
    log(
      `roundtrip done: ${file.name} (${seconds(out.duration_s)}) -> ${out.shape.join("x")} tokens, ` +
        `encode ${seconds(out.encode_s)}, decode ${seconds(out.decode_s)}, request ${seconds(total)}, GPU mem: ${gpu(resp)}`,
    );
  }

  let lastCodes = null;

  // The encode answer is a codes file in CodeGrid.to_dict's JSON layout ("format": "qtok-codes",
  // "shape", "codes" as [n_layers][n_frames], "masked", codec, rates, codebook size, n_samples)
  // plus the run's "duration_s", "device" and "encode_s": Save .pt sends it back as it came.
  async function encode() {
    const file = chosenFile("encode", "an audio file");
    const resp = await post("encode", file);
    const text = await resp.text();
    const out = JSON.parse(text);
    const [nLayers, nFrames] = out.shape;
    lastCodes = { json: text, name: file.name.replace(/\.[^.]*$/, "") || "codes" };
    info("encode-info", [
      ["Codes shape", `[${nLayers}, ${nFrames}]`],
      ["Codec", `${out.codec} (${out.codebook_size} codes per layer)`],
      ["Device", out.device],
      ["Duration", `${seconds(out.duration_s)} (${nFrames} frames at ${out.frame_rate} Hz)`],
      ["Encode time", seconds(out.encode_s)],
    ]);
    const table = $("encode-preview");
    table.replaceChildren();
    const head = table.insertRow();
    for (const label of ["layer", "first 5 codes", "…", "last 5 codes"]) {
      const th = document.createElement("th");
      th.textContent = label;
      head.append(th);
    }
    out.codes.forEach((row, layer) => {
      const tr = table.insertRow();
      tr.insertCell().textContent = layer;
      tr.insertCell().textContent = row.slice(0, 5).join(", ");
      tr.insertCell().textContent = row.length > 10 ? "…" : "";
      tr.insertCell().textContent = row.slice(-5).join(", ");
    });
    $("encode-result").hidden = false;
    log(`encode done: ${file.name} -> ${nLayers}x${nFrames} tokens, ${seconds(out.encode_s)}, GPU mem: ${gpu(resp)}`);
  }

  async function saveCodes() {
    if (!lastCodes) return;
    const resp = await post("convert?format=pt", new Blob([lastCodes.json], { type: "application/json" }));
    download(await resp.blob(), `${lastCodes.name}.pt`);
    log(`saved ${lastCodes.name}.pt`);
  }

  async function decode() {
    const file = chosenFile("decode", "a .pt, .npz or .json codes file");
    const resp = await post("decode", file);
    const blob = await resp.blob();
    const wav = new Blob([blob], { type: "audio/wav" });
    setAudio($("decode-audio"), wav);
    const link = $("decode-download");
    if (link.href.startsWith("blob:")) URL.revokeObjectURL(link.href);
    link.href = URL.createObjectURL(wav);
    const duration = Number(resp.headers.get("X-Qtok-Duration-S"));
    info("decode-info", [
      ["Codes shape", `[${resp.headers.get("X-Qtok-Shape").replace("x", ", ")}]`],
      ["Sample rate", `${resp.headers.get("X-Qtok-Sample-Rate")} Hz`],
      ["Duration", seconds(duration)],
      ["Decode time", seconds(resp.headers.get("X-Qtok-Seconds"))],
    ]);
    $("decode-result").hidden = false;
    log(`decode done: ${file.name} -> ${seconds(duration)} audio, ${seconds(resp.headers.get("X-Qtok-Seconds"))}, GPU mem: ${gpu(resp)}`);
  }

  // ------------------------------------------------------------------ wiring
  const modes = ["roundtrip", "encode", "decode"];
  for (const mode of modes) {
    $(`tab-${mode}`).addEventListener("click", () => {
      for (const other of modes) {
        $(`tab-${other}`).setAttribute("aria-selected", String(other === mode));
        $(`panel-${other}`).hidden = other !== mode;
      }
    });
  }
  $("roundtrip-run").addEventListener("click", () => busy("roundtrip", roundtrip));
  $("encode-run").addEventListener("click", () => busy("encode", encode));
  $("decode-run").addEventListener("click", () => busy("decode", decode));
  $("encode-save").addEventListener("click", () => busy("encode", saveCodes, { fresh: false }));
  $("load").addEventListener("click", async () => {
    $("load").disabled = true;
    $("status").textContent = "loading the codec…";
    await refreshStatus(true);
    $("load").disabled = false;
  });
  refreshStatus();
})();
