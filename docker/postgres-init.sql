-- one database per service
CREATE DATABASE registration;
CREATE DATABASE dispatch;
CREATE DATABASE scoring;
CREATE DATABASE notify;
CREATE DATABASE activities;
CREATE DATABASE bridge;
CREATE DATABASE records;
