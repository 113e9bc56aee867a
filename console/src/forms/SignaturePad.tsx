import { useEffect, useRef } from 'react'
import SignaturePadLib from 'signature_pad'
import { useTranslation } from 'react-i18next'

/** The customer signs on screen (signature_pad: pointer, touch and pen); saved as a PNG file that goes
 *  up through the same presigned flow as a photo (the server seals it to the record's report). */
export default function SignaturePad({ label, disabled, onSave }: { label: string; disabled?: boolean; onSave: (file: File) => void }) {
  const { t } = useTranslation()
  const canvas = useRef<HTMLCanvasElement>(null)
  const pad = useRef<SignaturePadLib | null>(null)
  useEffect(() => {
    if (!canvas.current) return
    const ratio = Math.max(window.devicePixelRatio || 1, 1)
    const c = canvas.current
    c.width = c.offsetWidth * ratio
    c.height = c.offsetHeight * ratio
    c.getContext('2d')?.scale(ratio, ratio)
    pad.current = new SignaturePadLib(c, { backgroundColor: 'rgb(255,255,255)' })
    return () => pad.current?.off()
  }, [])
  const save = () => {
    if (!pad.current || pad.current.isEmpty()) return
    canvas.current?.toBlob((blob) => blob && onSave(new File([blob], 'signature.png', { type: 'image/png' })), 'image/png')
  }
  return (
    <div className="signature">
      <p id="signature-label">{t('signHere')}</p>
      <canvas ref={canvas} className="signature-pad" role="img" aria-labelledby="signature-label" aria-label={label} />
      <div className="row">
        <button type="button" onClick={() => pad.current?.clear()}>{t('clearSignature')}</button>
        <button type="button" disabled={disabled} onClick={save}>{t('saveSignature')}</button>
      </div>
    </div>
  )
}
