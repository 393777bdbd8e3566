-- Roles and databases for docker-compose: Temporal's (its schema is set up
-- by temporal-sql-tool) and Klaxon's (migrated by `klaxon serve`).
CREATE ROLE temporal LOGIN PASSWORD 'temporal' CREATEDB;
CREATE ROLE klaxon LOGIN PASSWORD 'klaxon';
CREATE DATABASE klaxon OWNER klaxon;
