import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseConfig, type PolicySettings } from '../../src/config'
import { isFiltered } from '../../src/pipeline/filter'

function policy(lines: string): PolicySettings {
  const text = `[mailgw.network]\nHostname=gw.example.com\nPostmaster=pm@example.com\nProtectedDomains=example.com\n[mailgw.policy]\n${lines}\n`
  const { config, errors } = parseConfig(text, '/tmp/filter-test.conf')
  assert.deepEqual(errors, [])
  return config!.policy
}

const exe = { filename: 'run.exe', contentType: 'application/octet-stream' }
const doc = { filename: 'plan.doc', contentType: 'application/msword' }
const pdf = { filename: 'paper.pdf', contentType: 'application/pdf' }
const text = { filename: null, contentType: 'text/plain' }

describe('isFiltered', () => {
  it('nothing without lists', () => {
    const s = policy('')
    for (const o of [exe, doc, pdf, text]) assert.equal(isFiltered(o, s), false, String(o.filename))
  })

  it('IncludeByName selects by name', () => {
    const s = policy('IncludeByName=*.exe')
    assert.equal(isFiltered(exe, s), true)
    assert.equal(isFiltered(doc, s), false)
    assert.equal(isFiltered(text, s), false)
  })

  it('IncludeByMime selects by type', () => {
    const s = policy('IncludeByMime=application/*')
    assert.equal(isFiltered(exe, s), true)
    assert.equal(isFiltered(pdf, s), true)
    assert.equal(isFiltered(text, s), false)
  })

  it('ExcludeByMime protects a type', () => {
    const s = policy('IncludeByMime=application/*\nExcludeByMime=application/pdf')
    assert.equal(isFiltered(pdf, s), false)
    assert.equal(isFiltered(doc, s), true)
  })

  it('ExcludeByName alone filters the rest', () => {
    const s = policy('ExcludeByName=*.doc')
    assert.equal(isFiltered(doc, s), false)
    assert.equal(isFiltered(exe, s), true)
    assert.equal(isFiltered(text, s), false, 'no name, no name rule')
  })

  it('ExcludeByMime alone filters the rest', () => {
    const s = policy('ExcludeByMime=text/*')
    assert.equal(isFiltered(text, s), false)
    assert.equal(isFiltered(pdf, s), true)
  })

  it('an exclusion by name beats an inclusion by type', () => {
    const s = policy('IncludeByMime=application/*\nExcludeByName=*.doc')
    assert.equal(isFiltered(doc, s), false)
    assert.equal(isFiltered(pdf, s), true)
  })

  it('an exclusion by type beats an inclusion by name', () => {
    const s = policy('IncludeByName=*.pdf\nExcludeByMime=application/pdf')
    assert.equal(isFiltered(pdf, s), false)
  })
})
