-- Every (workflow, schema_version) weft has loaded, with the admin's enabled override.
CREATE TABLE IF NOT EXISTS workflow_versions (
    name             TEXT        NOT NULL,
    schema_version   TEXT        NOT NULL,
    -- `enabled` as written in the YAML.
    yaml_enabled     BOOLEAN     NOT NULL,
    -- Set once an admin toggles the version; NULL means "as the YAML says".
    enabled_override BOOLEAN,
    -- The document as written (`${VAR}` unexpanded).
    config           TEXT        NOT NULL,
    source_file      TEXT        NOT NULL,
    trigger_method   TEXT,
    trigger_path     TEXT,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (name, schema_version)
);
