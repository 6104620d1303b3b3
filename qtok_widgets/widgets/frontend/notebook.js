// What the editor does in the notebook page around its own view: it hides the static picture
// that the kernel leaves beside the widget for saved notebooks (data-qtok-picture, see
// TokenEditor.picture_bundle) while a live view shows the same grid, and it shows the offer to
// restore edits an earlier editor of the same clip left in its journal.

import { el } from "./dom.js";

/** The element to hide for a picture node: its output area child in Jupyter, else the node. */
export function pictureContainer(node) {
  return (node.closest && node.closest(".jp-OutputArea-child, .output_area")) || node;
}

/**
 * Hide every picture marked `pictureId` now and whenever the kernel re-renders it (each edit
 * updates the picture's display). Returns a function that stops watching and shows them again.
 */
export function hidePicture(doc, pictureId) {
  if (!pictureId || !doc || !doc.querySelectorAll) return () => {};
  const selector = `[data-qtok-picture="${CSS.escape(pictureId)}"]`;
  const hidden = new Set();
  const hideAll = () => {
    for (const node of doc.querySelectorAll(selector)) {
      const box = pictureContainer(node);
      if (box.style.display !== "none") {
        box.style.display = "none";
        hidden.add(box);
      }
    }
  };
  hideAll();
  const observer = new MutationObserver(hideAll);
  observer.observe(doc.body, { childList: true, subtree: true });
  return () => {
    observer.disconnect();
    for (const box of hidden) if (box.isConnected) box.style.display = "";
  };
}

/** The restore offer bar: text plus Restore and Discard buttons (data-action restore / discard_saved). */
export function createRestoreBar(onAction) {
  const text = el("span", { class: "qtok-restore-text" });
  const bar = el("div", { class: "qtok-restore", role: "status" }, [
    text,
    el("button", { class: "qtok-btn", "data-action": "restore", text: "Restore", title: "Bring the saved edits back" }),
    el("button", { class: "qtok-btn", "data-action": "discard_saved", text: "Discard", title: "Delete the saved edits" }),
  ]);
  bar.addEventListener("click", (e) => {
    const b = e.target.closest("button[data-action]");
    if (b) onAction(b.dataset.action);
  });
  return {
    node: bar,
    /** Show `offer` ("37 edits from 14:02 were saved for this clip"), or hide the bar when empty. */
    sync(offer) {
      text.textContent = offer ? `${offer}. ` : "";
      bar.style.display = offer ? "" : "none";
    },
  };
}
