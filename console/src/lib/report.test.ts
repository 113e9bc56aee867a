import { describe, expect, it } from 'vitest'
import { printHtml, reportPath } from './report'

describe('the service report', () => {
  it('asks for the times in the reader\'s time zone', () => {
    expect(reportPath('/forms/work_order/records/01J', 'Asia/Shanghai')).toBe('/forms/work_order/records/01J/report?tz=Asia%2FShanghai')
    expect(reportPath('/forms/work_order/records/01J', '')).toBe('/forms/work_order/records/01J/report')
  })
  it('prints from a hidden frame that runs no script', () => {
    const frame = printHtml('<!DOCTYPE html><html><body><p>report</p></body></html>')
    expect(frame.getAttribute('sandbox')).toBe('allow-same-origin allow-modals') // no allow-scripts
    expect(frame.srcdoc).toContain('<p>report</p>')
    expect(document.body.contains(frame)).toBe(true)
    frame.remove()
  })
})
