// Names for the generated API types the H5 uses (generated from the gateway's OpenAPI).
import type { components } from '@/api/schema'

type S = components['schemas']
export type Principal = S['RegistrationPrincipal']
// the same request schema appears twice (with and without history): either shape
export type ServiceRequest = S['DispatchRequest'] & Partial<S['DispatchRequest1']>
export type MenuItem = S['DispatchMenuItem']
export type FieldDefinition = S['DispatchFieldDefinition']
export type Wish = S['DispatchWish']
export type Opinion = S['DispatchOpinion']
export type Activity = S['ActivitiesActivity']
export type Signup = S['ActivitiesSignup']
export type MySignup = S['ActivitiesMySignup']
export type Inbox = S['NotifyInbox']
export type Message = S['NotifyMessage']
export type Member = S['RegistrationMember']
export type Card = S['RegistrationCard']
export type Balance = S['ScoringBalance']
export type Post = S['RegistrationPost']
export type Place = S['RegistrationPlace']
export type VolunteerRecord = S['RecordsRecord']
