// Lets the loader check that AssemblyScript's own static data ends below the first fixed region.

export function heapBase(): u32 {
  return <u32>__heap_base
}
