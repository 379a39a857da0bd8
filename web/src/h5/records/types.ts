// Names for the generated API types of the volunteer record (from the gateway's OpenAPI).
import type { components } from '@/api/schema'

type S = components['schemas']
export type VolunteerRecord = S['RecordsRecord']
export type RecordEntry = S['RecordsEntryView']
export type Certificate = S['RecordsCertificateView']
export type Transfer = S['RecordsTransferView']
