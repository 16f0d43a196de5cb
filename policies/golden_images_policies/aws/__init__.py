"""AWS rules: EC2 Image Builder (``imagebuilder``), AMIs and EBS snapshots (``ec2``), Data Lifecycle Manager and
RAM shares (``dlm``); ``sharing`` holds the allow-list verdict they share."""
