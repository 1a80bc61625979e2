systemctl disable --now corpus-webapp.service 2>/dev/null
rm -f /etc/systemd/system/corpus-webapp.service
systemctl daemon-reload
