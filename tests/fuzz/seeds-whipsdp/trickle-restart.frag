a=ice-ufrag:wxyz
a=ice-pwd:zyxwvutsrqponmlkjihgfedc
a=mid:1
a=candidate:2 1 tcp 1518280447 192.0.2.10 9 typ host tcptype active
