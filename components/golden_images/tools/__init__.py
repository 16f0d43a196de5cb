"""Day-2 AWS tools: ``golden-images pin``, ``audit`` and ``cleanup`` (boto3).

Layout: :mod:`.aws` builds clients (standard AWS environment, adaptive retries); :mod:`.inventory` reads a
region (owned images, launch permissions, instance and launch-template usage); :mod:`.facts` holds the
typed, pure view of an image and the version ranking; :mod:`.audit`, :mod:`.cleanup` and :mod:`.pin` are
pure planners plus thin I/O drivers; :mod:`.report` renders JSON, Markdown and rich tables;
:mod:`.commands` wires them into the ``golden-images`` typer app.
"""
