/**
 * How a page names a layer: the module path and source line first (`blocks.0.act · nested.py:23`), the ONNX node
 * name second; just the node name when the file tells no module (older exporters, other producers).
 */
import { layerOrigin, type LayerInfo } from '../shared/results';
import { h } from './vscodeApi';

type Named = Pick<LayerInfo, 'key' | 'module' | 'source'>;

/** Content of a layer's row header. */
export function layerName(l: Named): (Node | string)[] {
  const origin = layerOrigin(l);
  return origin ? [h('span', { class: 'layer-module' }, origin), ' ', h('code', { class: 'layer-node' }, l.key)] : [h('code', {}, l.key)];
}

/** A layer's name as plain text (legends, tooltips, live regions). */
export function layerText(l: Named): string {
  const origin = layerOrigin(l);
  return origin ? `${origin} (${l.key})` : l.key;
}
