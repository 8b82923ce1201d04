// Pan and zoom of a drawing in a viewport: the drawing is shown at `scale`, its origin at (x, y)
// in viewport pixels. Pure: the graph view keeps one of these and draws with it.

export interface View {
  x: number;
  y: number;
  scale: number;
}

export const MIN_SCALE = 0.1;
export const MAX_SCALE = 4;
/** One press of a zoom button or key. */
export const ZOOM_STEP = 1.25;
/** One press of an arrow key, in viewport pixels. */
export const PAN_STEP = 60;

const clamp = (value: number, low: number, high: number) => Math.min(high, Math.max(low, value));

/** Zoomed by `factor` about the viewport point (px, py), which stays where it is. */
export function zoomAt(view: View, factor: number, px: number, py: number): View {
  const scale = clamp(view.scale * factor, MIN_SCALE, MAX_SCALE);
  const ratio = scale / view.scale;
  return { scale, x: px - (px - view.x) * ratio, y: py - (py - view.y) * ratio };
}

export function panBy(view: View, dx: number, dy: number): View {
  return { ...view, x: view.x + dx, y: view.y + dy };
}

/** The whole drawing in the viewport, centred, never enlarged past 1:1. */
export function fitView(drawing: { width: number; height: number }, viewport: { width: number; height: number }, margin = 16): View {
  const usableWidth = Math.max(1, viewport.width - 2 * margin);
  const usableHeight = Math.max(1, viewport.height - 2 * margin);
  const scale = clamp(Math.min(usableWidth / drawing.width, usableHeight / drawing.height, 1), MIN_SCALE, MAX_SCALE);
  return { scale, x: (viewport.width - drawing.width * scale) / 2, y: (viewport.height - drawing.height * scale) / 2 };
}

/** The part of the drawing from (left, top), `width` × `height`, fitted into the viewport as fitView fits the whole. */
export function fitBox(box: { left: number; top: number; width: number; height: number }, viewport: { width: number; height: number }, margin = 16): View {
  const fitted = fitView(box, viewport, margin);
  return { ...fitted, x: fitted.x - box.left * fitted.scale, y: fitted.y - box.top * fitted.scale };
}

/** The view that puts the drawing point (cx, cy) at the viewport's centre. */
export function centreOn(view: View, cx: number, cy: number, viewport: { width: number; height: number }): View {
  return { ...view, x: viewport.width / 2 - cx * view.scale, y: viewport.height / 2 - cy * view.scale };
}
