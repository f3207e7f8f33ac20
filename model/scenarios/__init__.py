"""Scenario files: ``format`` reads one and ``check`` walks it through the model (both pure);
``runner`` runs one on the harness and ``writer`` turns a failing run into one."""
