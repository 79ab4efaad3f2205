/** A promise that stays pending until `open()` is called: the task that blocks a queue's only slot. */
export interface Gate {
  readonly promise: Promise<number>
  open(): void
}

export function createGate(): Gate {
  let open!: () => void
  const promise = new Promise<number>((resolve) => {
    open = () => resolve(0)
  })
  return { promise, open }
}
