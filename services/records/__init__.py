"""The volunteer record (志愿服务记录): confirmed hours, trainings, awards, evaluations, complaints,
volunteer star levels, certificates anyone can verify, transfer with consent, exports."""
