"""Azure rules: compute galleries, image versions, managed images, sharing profiles and VM Image Builder
(``compute``)."""
