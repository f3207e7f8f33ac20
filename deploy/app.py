"""Entry point of the CDK app (``cdk.json`` runs ``python app.py``)."""

from intake_stack import build_app

if __name__ == "__main__":
    app, _ = build_app()
    app.synth()
