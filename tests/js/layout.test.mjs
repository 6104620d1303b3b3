import assert from "node:assert/strict";
import { test } from "node:test";

import {
  AXIS, EDIT_LANE, GUTTER, MAX_CELL, MINI, MUTE_W, TRACK, WAVE, axisTicks, centreOn, fittedFrameAt, followV0, cellCentre, cellRect, clampView, computeLayout,
  dragSelection, fitCellWidth, frameAt, hitTest, scrollBar, tickStep, union, v0FromScroll,
  visibleFrames, xOfFrame, zoomView,
} from "../../qtok_widgets/widgets/frontend/layout.js";
import { fmtTime } from "../../qtok_widgets/widgets/frontend/format.js";

const L = computeLayout({ nLayers: 16, heightPx: 288, width: 1000, showWaveform: true });

test("the layout stacks edit lane, grid, time axis and waveform strip", () => {
  const trackY = EDIT_LANE + 288 + AXIS + WAVE;
  assert.deepEqual(L, {
    rowH: 18, width: 1000, plotW: 1000 - GUTTER - 8, gx: GUTTER, gy: EDIT_LANE,
    gridH: 288, axisY: EDIT_LANE + 288, waveY: EDIT_LANE + 288 + AXIS, trackY, trackH: 0,
    miniY: trackY, height: trackY + MINI, labelH: 0, stripY: trackY, stripH: 0, melH: 0,
  });
  const noWave = computeLayout({ nLayers: 16, heightPx: 288, width: 1000, showWaveform: false });
  assert.equal(noWave.height, noWave.waveY + MINI);
  // a second clip adds its track between the waveform and the overview strip
  const withSource = computeLayout({ nLayers: 16, heightPx: 288, width: 1000, showWaveform: true, source: true });
  assert.equal(withSource.trackH, TRACK);
  assert.ok(withSource.miniY >= trackY + TRACK);
  // rows never get thinner than 6 px; the stage never narrower than 200 px
  const tall = computeLayout({ nLayers: 100, heightPx: 50, width: 10, showWaveform: false });
  assert.equal(tall.rowH, 6);
  assert.equal(tall.width, 200);
  assert.equal(computeLayout({ nLayers: 0, heightPx: 288, width: 0, showWaveform: false }).width, 800);
});

test("a fitted view shows every frame; zoomed views stay inside the recording", () => {
  const nF = 4600;
  const fitted = clampView({ v0: 123, cellW: 0, fitted: true }, L, nF);
  assert.equal(fitted.cellW, L.plotW / nF);
  assert.equal(fitted.v0, 0);
  const past = clampView({ v0: 10_000, cellW: 10, fitted: false }, L, nF);
  assert.equal(past.v0, nF - L.plotW / 10); // the last frame sits at the right edge
  const wide = clampView({ v0: -5, cellW: 500, fitted: false }, L, nF);
  assert.equal(wide.cellW, MAX_CELL);
  assert.equal(wide.v0, 0);
  const short = clampView({ v0: 3, cellW: 2, fitted: false }, L, 100); // 100 frames fit: no scrolling
  assert.equal(short.cellW, fitCellWidth(L, 100));
  assert.equal(short.v0, 0);
  // a very short recording is not stretched past MAX_CELL per frame
  assert.equal(clampView({ v0: 0, cellW: 0, fitted: true }, L, 10).cellW, MAX_CELL);
});

test("frames and x positions convert both ways; cell centres sit mid-cell", () => {
  const view = { v0: 100.5, cellW: 12, fitted: false };
  for (const f of [100.5, 101, 150.25]) assert.ok(Math.abs(frameAt(L, view, xOfFrame(L, view, f)) - f) < 1e-9);
  assert.equal(xOfFrame(L, view, 100.5), L.gx);
  assert.deepEqual(cellCentre(L, view, 101, 2), { x: L.gx + 12, y: L.gy + 2.5 * L.rowH });
  assert.deepEqual(visibleFrames(L, view, 1000), [100, Math.ceil(100.5 + L.plotW / 12)]);
  assert.deepEqual(visibleFrames(L, view, 120), [100, 120]);
});

test("hit testing finds the zone and the nearest cell, clamped to the grid", () => {
  const view = { v0: 0, cellW: 10, fitted: false };
  const at = (x, y) => hitTest(L, view, 50, 16, x, y);
  assert.deepEqual(at(L.gx + 25, L.gy + 3 * L.rowH + 1), { x: L.gx + 25, y: L.gy + 3 * L.rowH + 1, zone: "grid", frame: 2, layer: 3 });
  assert.equal(at(20, L.gy + 1).zone, "labels");
  assert.equal(at(MUTE_W - 2, L.gy + 1).zone, "mute"); // the layer's playback toggle
  assert.equal(at(L.gx + 5, L.miniY + 2).zone, "mini");
  assert.equal(at(L.gx + 5, L.axisY + 1).zone, "axis");
  assert.equal(at(L.gx + 5, L.waveY + 1).zone, "wave");
  assert.equal(at(L.gx + 5, 1).zone, "none"); // the edit lane
  assert.equal(at(20, L.axisY + 1).zone, "none"); // left of the axis
  const far = at(L.gx + 5000, L.axisY + 1);
  assert.equal(far.frame, 49);
  assert.equal(far.layer, 15);
  assert.equal(at(0, 0).frame, 0);
});

test("drags make half-open rectangles; labels take rows, the axis columns, shift extends", () => {
  const a = { frame: 19, layer: 15 };
  const b = { frame: 10, layer: 8 };
  assert.deepEqual(cellRect(a, b), { frames: [10, 20], layers: [8, 16] });
  assert.deepEqual(cellRect(a, a), { frames: [19, 20], layers: [15, 16] });
  const s = { frames: [10, 20], layers: [8, 16] };
  const t = { frames: [30, 31], layers: [0, 2] };
  assert.deepEqual(union(s, t), { frames: [10, 31], layers: [0, 16] });
  assert.deepEqual(union(t, s), union(s, t));
  assert.equal(union(null, t), t);
  const nF = 50;
  const nL = 16;
  assert.deepEqual(dragSelection({ zone: "labels", start: { frame: 3, layer: 2 }, shift: false }, { frame: 40, layer: 2 }, nF, nL),
    { frames: [0, 50], layers: [2, 3] });
  assert.deepEqual(dragSelection({ zone: "axis", start: { frame: 3, layer: 0 }, shift: false }, { frame: 7, layer: 0 }, nF, nL),
    { frames: [3, 8], layers: [0, 16] });
  assert.deepEqual(dragSelection({ zone: "labels", start: { frame: 0, layer: 4 }, shift: true, prev: { frames: [0, 50], layers: [2, 3] } },
    { frame: 0, layer: 4 }, nF, nL), { frames: [0, 50], layers: [2, 5] });
  assert.deepEqual(dragSelection({ zone: "grid", start: b, shift: true, prev: null }, a, nF, nL), s);
});

test("zooming keeps the frame under the anchor in place and stops at fit and MAX_CELL", () => {
  const nF = 4600;
  const view = clampView({ v0: 0, cellW: 0, fitted: true }, L, nF);
  const anchor = L.gx + 300;
  const before = frameAt(L, view, anchor);
  const zoomed = zoomView(view, L, nF, 8, anchor);
  assert.equal(zoomed.fitted, false);
  assert.ok(Math.abs(zoomed.cellW - 8 * view.cellW) < 1e-12);
  assert.ok(Math.abs(frameAt(L, zoomed, anchor) - before) < 1e-9);
  assert.equal(zoomView(zoomed, L, nF, 1e6).cellW, MAX_CELL);
  const back = zoomView(zoomed, L, nF, 1 / 64);
  assert.equal(back.fitted, true);
  assert.equal(back.cellW, fitCellWidth(L, nF));
  const centred = zoomView(view, L, nF, 2); // default anchor: the middle of the plot
  assert.ok(Math.abs(frameAt(L, centred, L.gx + L.plotW / 2) - frameAt(L, view, L.gx + L.plotW / 2)) < 1e-9);
});

test("the scroll bar maps to the scrollable span and back", () => {
  const nF = 2000;
  const view = { v0: 0, cellW: 10, fitted: false };
  const span = nF - L.plotW / 10;
  assert.deepEqual(scrollBar(view, L, nF), { max: 2000, value: 0, disabled: false });
  assert.deepEqual(scrollBar({ ...view, v0: span / 2 }, L, nF), { max: 2000, value: 1000, disabled: false });
  assert.equal(v0FromScroll(1000, 2000, view, L, nF), span / 2);
  assert.deepEqual(scrollBar({ v0: 0, cellW: fitCellWidth(L, 300), fitted: true }, L, 300), { max: 1000, value: 0, disabled: true });
});

test("time-axis ticks leave 70 px between labels and stay inside the plot", () => {
  assert.equal(tickStep(48, 12.5), 0.2); // 600 px per second
  assert.equal(tickStep(1, 12.5), 10); // 12.5 px per second
  // round steps only: labels advance evenly (the old 0.16 s step printed 0.2, 0.3, 0.5, 0.6)
  const zoomed = axisTicks(L, { v0: 0, cellW: 48, fitted: false }, 12.5);
  const labels = zoomed.ticks.map((t) => fmtTime(t.seconds, zoomed.step));
  assert.deepEqual(labels.slice(0, 5), ["0.0s", "0.2s", "0.4s", "0.6s", "0.8s"]);
  assert.equal(tickStep(0.001, 12.5), 3600);
  const view = { v0: 12.5, cellW: 4, fitted: false }; // 50 px per second, from 1 s
  const { step, ticks } = axisTicks(L, view, 12.5);
  assert.equal(step, 2);
  assert.deepEqual(ticks.slice(0, 3).map((t) => t.seconds), [2, 4, 6]);
  assert.equal(ticks[0].x, L.gx + 50);
  for (const t of ticks) assert.ok(t.x <= L.gx + L.plotW - 24);
  const last = ticks[ticks.length - 1];
  assert.ok(last.x + step * 50 > L.gx + L.plotW - 24); // the next one would not fit
});

test("the overview strip and the 2nd clip's track map x to frames of the whole clip", () => {
  assert.equal(fittedFrameAt(L, 1000, L.gx), 0);
  assert.equal(fittedFrameAt(L, 1000, L.gx + L.plotW / 2), 500);
  assert.equal(fittedFrameAt(L, 1000, L.gx + L.plotW + 50), 999);
  const view = { v0: 0, cellW: 10, fitted: false };
  assert.equal(centreOn(L, view, 500), 500 - L.plotW / 20);
});

test("a followed playhead turns the page when it nears the right edge", () => {
  const view = { v0: 100, cellW: 10, fitted: false }; // 92.8 frames visible
  const visible = L.plotW / 10;
  assert.equal(followV0(L, view, 150), 100); // inside: the view stays
  assert.equal(followV0(L, view, 100 + 0.95 * visible), 100 + 0.95 * visible - 0.05 * visible);
  assert.equal(followV0(L, view, 20), 20 - 0.05 * visible); // seeked back before the view
});
