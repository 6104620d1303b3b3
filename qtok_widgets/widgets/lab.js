// CodecLab's download helper: Python sends a file's bytes as a binary buffer in a custom
// message and the browser saves it (a Blob and a temporary <a download>). The view draws nothing.
function render({ model, el }) {
  el.classList.add("qtok-lab-download");
  const onMessage = (msg, buffers) => {
    if (!msg || msg.type !== "download" || !buffers || !buffers.length) return;
    const data = buffers[0];
    const bytes = data instanceof DataView ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : data;
    const blob = new Blob([bytes], { type: msg.mime || "application/octet-stream" });
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = msg.name || "download";
    a.style.display = "none";
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 60000);
    model.set("downloads", model.get("downloads") + 1);
    model.save_changes();
  };
  model.on("msg:custom", onMessage);
  return () => model.off("msg:custom", onMessage);
}

export default { render };
