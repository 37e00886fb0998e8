import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";

/** A modal that asks before a write; Escape or "Cancel" says no. */
export function Confirm(props: {
  title: string;
  children?: ComponentChildren;
  confirmLabel: string;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
  }, []);
  return (
    <dialog ref={ref} class="confirm" aria-label={props.title} onCancel={props.onCancel}>
      <h3>{props.title}</h3>
      <div>{props.children}</div>
      <p class="buttons">
        <button type="button" onClick={props.onCancel}>
          Cancel
        </button>
        <button type="button" class="danger" onClick={props.onConfirm}>
          {props.confirmLabel}
        </button>
      </p>
    </dialog>
  );
}
