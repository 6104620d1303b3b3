// The operation list as the "ops" message carries it (docs/protocol.md), in today's order.
export const OPS = [
  { name: "mask", title: "Mask", help: "Mask selected cells (M)", group: "mask", key: "m", key_does: "run", selection: "cells", params: [] },
  { name: "unmask", title: "Unmask", help: "Unmask selected cells (U)", group: "mask", key: "u", key_does: "run", selection: "cells", params: [] },
  {
    name: "replace", title: "Replace", help: "Write the code into the selection (R)", group: "replace", key: "r", key_does: "focus", selection: "cells",
    params: [{ name: "code", label: "", kind: "int", min: 0, max: 2047, step: 1, optional: false, help: "Code for Replace" }],
  },
  {
    name: "interpolate", title: "Interpolate", help: "Interpolate the selection (I)", group: "interpolate", key: "i", key_does: "run", selection: "cells",
    params: [
      { name: "alpha", label: "α", kind: "float", min: 0, max: 1, step: 0.05, optional: false, help: "Interpolation alpha" },
      { name: "target", label: "", kind: "choice", choices: [["neighbours", "neighbours"], ["source", "2nd clip"]], optional: false, help: "Interpolate toward" },
    ],
  },
  {
    name: "randomize", title: "Randomize", help: "Draw codes from each layer's distribution", group: "randomize", key: null, key_does: "run", selection: "cells",
    params: [{ name: "seed", label: "seed", kind: "int", min: 0, max: 4294967295, step: 1, optional: true, help: "Seed (empty: a new one each time)" }],
  },
  { name: "delete_frames", title: "Delete", help: "Delete selected frames (Del)", group: "frames", key: "Delete", key_does: "run", selection: "frames", params: [] },
  {
    name: "duplicate_frames", title: "Duplicate", help: "Duplicate selected frames (D)", group: "frames", key: "d", key_does: "run", selection: "frames",
    params: [{ name: "times", label: "×", kind: "int", min: 1, max: 64, step: 1, optional: false, help: "Copies" }],
  },
];
