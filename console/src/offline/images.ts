// Photos from a phone camera are 4000+ pixels and several MB; the field's `max_edge_px` (schema
// `x-max-edge`) says how large they go up. Reduced in the browser, before they are queued, so the
// queue, the upload and the file store hold what the tenant asked for.

/** The size a picture of w×h is drawn at so that its longest side is at most `maxEdge`. */
export function fitWithin(width: number, height: number, maxEdge: number): { width: number; height: number } {
  const longest = Math.max(width, height)
  if (!maxEdge || longest <= maxEdge) return { width, height }
  const scale = maxEdge / longest
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) }
}

const DRAWABLE = /^image\/(jpeg|png|webp)$/

/** The photo reduced to `maxEdge` (JPEG, or the original type when it already fits or cannot be
 *  decoded here — e.g. HEIC in a browser without it); with the size it has now. */
export async function reduce(file: Blob, maxEdge: number, accept: string[]): Promise<{ blob: Blob; width?: number; height?: number }> {
  if (!DRAWABLE.test(file.type) || typeof createImageBitmap === 'undefined') return { blob: file }
  let bitmap: ImageBitmap
  try {
    bitmap = await createImageBitmap(file)
  } catch {
    return { blob: file }
  }
  const size = fitWithin(bitmap.width, bitmap.height, maxEdge)
  if (size.width === bitmap.width && size.height === bitmap.height) {
    bitmap.close()
    return { blob: file, ...size }
  }
  const canvas = document.createElement('canvas')
  canvas.width = size.width
  canvas.height = size.height
  const context = canvas.getContext('2d')
  if (!context) {
    bitmap.close()
    return { blob: file }
  }
  context.drawImage(bitmap, 0, 0, size.width, size.height)
  bitmap.close()
  const type = accept.length === 0 || accept.includes('image/jpeg') ? 'image/jpeg' : file.type
  const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, type, 0.85))
  return blob ? { blob, ...size } : { blob: file }
}
