"""SIP over PJSUA2: one thread owns the Endpoint; everyone else sends it commands."""
