// DOM helper: one element with attributes and children.

/**
 * Create an element.
 * @param {string} tag
 * @param {Object<string, string>} attrs "class" sets className, "text" textContent, the rest attributes
 * @param {Array<Node|string>} children appended in order
 */
export function el(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}
