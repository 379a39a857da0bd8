// Names for the generated API types the H5 uses (web/src/api, generated from the gateway's OpenAPI).
import type { Schema } from '@/api'

export type Principal = Schema<'RegistrationPrincipal'>
// the same request schema appears twice (with and without history): either shape
export type ServiceRequest = Schema<'DispatchRequest'> & Partial<Schema<'DispatchRequest1'>>
export type MenuItem = Schema<'DispatchMenuItem'>
export type FieldDefinition = Schema<'DispatchFieldDefinition'>
export type Wish = Schema<'DispatchWish'>
export type Opinion = Schema<'DispatchOpinion'>
export type Activity = Schema<'ActivitiesActivity'>
export type Signup = Schema<'ActivitiesSignup'>
export type MySignup = Schema<'ActivitiesMySignup'>
export type Inbox = Schema<'NotifyInbox'>
export type Message = Schema<'NotifyMessage'>
export type Member = Schema<'RegistrationMember'>
export type Card = Schema<'RegistrationCard'>
export type Balance = Schema<'ScoringBalance'>
export type Post = Schema<'RegistrationPost'>
export type Place = Schema<'RegistrationPlace'>
export type VolunteerRecord = Schema<'RecordsRecord'>
