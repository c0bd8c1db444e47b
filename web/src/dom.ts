// Small DOM helpers: the dApp has no framework.

type Child = Node | string | number | null | undefined | false;

/** `el('td', { class: 'x' }, 'text', child)`. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K, attrs: Record<string, string> = {}, ...children: Child[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined && c !== false) e.append(typeof c === 'number' ? String(c) : c);
  return e;
}

export const $ = <T extends HTMLElement = HTMLElement>(sel: string): T => {
  const e = document.querySelector<T>(sel);
  if (!e) throw new Error(`no element ${sel}`);
  return e;
};

/** Shows a message above the page: an error in the chain's words, or a success. */
export function notice(msg: string, kind: 'error' | 'ok' = 'error'): void {
  const n = $('#notice');
  n.textContent = msg;
  n.className = kind;
  n.hidden = false;
}

export function clearNotice(): void { $('#notice').hidden = true; }

/** Runs `f` with `button` disabled, showing its error as a notice. */
export async function busy(button: HTMLButtonElement | null, f: () => Promise<void>): Promise<void> {
  if (button) button.disabled = true;
  try { clearNotice(); await f(); } catch (e) { notice((e as Error).message); } finally { if (button) button.disabled = false; }
}
