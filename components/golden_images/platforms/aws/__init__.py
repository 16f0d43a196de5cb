"""AWS platform: catalog section, AWSTOE renderer and the EC2 Image Builder component."""
